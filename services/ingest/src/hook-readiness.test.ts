import { keyspace, Partitions } from "@hookwire/queue";
import { encodeCircuit } from "@hookwire/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { HookReadiness } from "./hook-readiness";

const redis = testRedis();
const prefix = uniquePrefix("readiness");
const keys = keyspace(prefix);
const NOW = 1_800_000_000_000;

/** Writes a hook's health as the workers leave it. */
async function health(hookId: string, circuit: "closed" | "open", outcomes: Record<string, number>) {
  await redis.hset(
    keys.hookHealth(hookId),
    ...encodeCircuit({ state: circuit, consecutiveFailures: circuit === "open" ? 5 : 0 }),
    ...Object.entries(outcomes).flat(),
  );
}

beforeAll(async () => {
  await health("answers", "closed", { lastSuccessAt: NOW - 1_000 });
  await health("recovered", "closed", { lastFailureAt: NOW - 9_000, lastSuccessAt: NOW - 2_000 });
  await health("failed-since", "closed", { lastSuccessAt: NOW - 9_000, lastFailureAt: NOW - 2_000 });
  await health("open", "open", { lastSuccessAt: NOW - 1_000 });
  await health("long-ago", "closed", { lastSuccessAt: NOW - 3_600_000 });
});
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe("HookReadiness", () => {
  const ids = ["answers", "recovered", "failed-since", "open", "long-ago", "never-sent"];
  const all = ids.map((id) => ({ id }));

  test("a hook is ready when its circuit is closed and it succeeded lately with no failure since", async () => {
    const readiness = new HookReadiness(redis, new Partitions(prefix), { now: () => NOW });
    await readiness.refresh(all);
    expect(ids.filter((id) => readiness.ready(id))).toEqual(["answers", "recovered"]);
  });

  test("the health is read again only once its reading is older than refreshMs", async () => {
    let now = NOW;
    const readiness = new HookReadiness(redis, new Partitions(prefix), { now: () => now, refreshMs: 1_000 });
    await readiness.refresh(all);
    await health("never-sent", "closed", { lastSuccessAt: NOW });
    now += 500;
    await readiness.refresh(all);
    expect(readiness.ready("never-sent")).toBe(false);
    now += 600;
    await readiness.refresh(all);
    expect(readiness.ready("never-sent")).toBe(true);
  });
});
