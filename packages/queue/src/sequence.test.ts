import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import type { JobDelivery } from "./job";
import { keyspace } from "./names";
import type { OutboxBatch } from "./outbox";
import { Sequences } from "./sequence";

const redis = testRedis();
const prefix = uniquePrefix("sequence");
const keys = keyspace(prefix);
const LEASE_MS = 1_000;
const sequences = new Sequences(keys, LEASE_MS);

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function delivery(hookId: string, entryId: string, at: number): JobDelivery {
  return {
    id: `${hookId}.${entryId}`,
    entryId,
    acceptedAt: 1,
    at,
    attemptsMade: 0,
    templateKey: "default",
    body: "{}",
  };
}

async function stage(hookId: string, deliveries: JobDelivery[], now = 1_000): Promise<void> {
  const batch: OutboxBatch = { id: `${hookId}.b`, data: { hookId, deliveries }, ordered: true };
  const tx = redis.multi();
  sequences.stage(tx, batch, now);
  await tx.exec();
}

async function advance(
  hookId: string,
  token: string,
  id: string,
  step: Parameters<Sequences["addAdvance"]>[4],
) {
  const tx = redis.multi();
  sequences.addAdvance(tx, hookId, token, id, step, 2_000);
  const [[, answer] = [null, null]] = (await tx.exec()) ?? [];
  return answer;
}

describe("an ordered hook's sequence", () => {
  test("the head is the earliest entry, ties by id, and one token holds it at a time", async () => {
    // Real times: the lock's lease is Redis' own clock.
    const now = Date.now();
    await stage(
      "hk_a",
      [delivery("hk_a", "e3", 30), delivery("hk_a", "e2", 10), delivery("hk_a", "e1", 10)],
      now,
    );
    expect(await sequences.due(redis, now, 10)).toContain("hk_a");
    const head = await sequences.claim(redis, "hk_a", "t1", now);
    expect(head?.entryId).toBe("e1");
    expect(await sequences.claim(redis, "hk_a", "t2", now)).toBeUndefined();
    // Locked: due again when the lease would lapse, not before.
    expect(await sequences.due(redis, now, 10)).not.toContain("hk_a");
    expect(await sequences.renew(redis, "hk_a", "t2")).toBe(false);
    expect(await sequences.renew(redis, "hk_a", "t1")).toBe(true);

    // A token that does not hold the lock moves nothing.
    expect(await advance("hk_a", "t2", "hk_a.e1", { kind: "pop", nextAt: now })).toBe(0);
    expect(await advance("hk_a", "t1", "hk_a.e1", { kind: "pop", nextAt: now })).toBe(1);
    expect(await sequences.due(redis, now, 10)).toContain("hk_a");
    expect((await sequences.claim(redis, "hk_a", "t3", now))?.entryId).toBe("e2");
  });

  test("a retried head keeps its place with its attempts counted; a held one stops the hook until staged again", async () => {
    await stage("hk_b", [delivery("hk_b", "e1", 1), delivery("hk_b", "e2", 2)]);
    const head = (await sequences.claim(redis, "hk_b", "t1", 1_000)) as JobDelivery;
    await advance("hk_b", "t1", head.id, {
      kind: "retry",
      delivery: { ...head, attemptsMade: 1 },
      at: 5_000,
    });
    expect(await sequences.due(redis, 4_999, 10)).not.toContain("hk_b");
    const again = (await sequences.claim(redis, "hk_b", "t2", 5_000)) as JobDelivery;
    expect(again).toMatchObject({ entryId: "e1", attemptsMade: 1 });

    await advance("hk_b", "t2", again.id, {
      kind: "hold",
      delivery: { ...again, attemptsMade: 2 },
      reason: "500",
    });
    expect((await sequences.view(redis, "hk_b")).held).toMatchObject({
      deliveryId: "hk_b.e1",
      reason: "500",
    });
    expect(await sequences.claim(redis, "hk_b", "t3", 6_000)).toBeUndefined();
    // A new entry behind it does not let it go on; the held one staged again does.
    await stage("hk_b", [delivery("hk_b", "e3", 3)], 6_000);
    expect(await sequences.claim(redis, "hk_b", "t4", 6_000)).toBeUndefined();
    await stage("hk_b", [{ ...again, attemptsMade: 2 }], 7_000);
    expect((await sequences.view(redis, "hk_b")).held).toBeUndefined();
    expect((await sequences.claim(redis, "hk_b", "t5", 7_000))?.entryId).toBe("e1");
  });

  test("skipping a held head takes it out and the next is due", async () => {
    await stage("hk_c", [delivery("hk_c", "e1", 1), delivery("hk_c", "e2", 2)]);
    const head = (await sequences.claim(redis, "hk_c", "t1", 1_000)) as JobDelivery;
    expect(await sequences.skipHeld(redis, "hk_c")).toBeUndefined();
    await advance("hk_c", "t1", head.id, { kind: "hold", delivery: head, reason: "gone" });
    expect(await sequences.skipHeld(redis, "hk_c", 3_000)).toBe("hk_c.e1");
    expect((await sequences.view(redis, "hk_c")).pending).toBe(1);
    expect((await sequences.claim(redis, "hk_c", "t2", 3_000))?.entryId).toBe("e2");
  });
});
