import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Partitions, settlePartitionCount } from "@hookwire/queue";
import { afterAll, describe, expect, test } from "vitest";
import { freePort } from "../bench/src/service-process";
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from "./support/redis";

// A start with another HOOKWIRE_QUEUE_PARTITIONS than the one Redis holds unsettled batches for
// is refused by both services, before they take or queue anything, with a message that says
// what to do (README: Redis Cluster, "Changing the number of partitions").

const MAINS = {
  ingest: fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url)),
  worker: fileURLToPath(new URL("../services/worker/src/main.ts", import.meta.url)),
};
const redis = testRedis();
const prefix = uniquePrefix("partition-change");
const processes: ChildProcess[] = [];

afterAll(async () => {
  for (const child of processes) if (child.exitCode === null) child.kill("SIGKILL");
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function start(service: keyof typeof MAINS, partitions: number) {
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), MAINS[service]], {
    env: {
      ...process.env,
      REDIS_URL,
      HOOKWIRE_QUEUE_PREFIX: prefix,
      HOOKWIRE_QUEUE_PARTITIONS: String(partitions),
      HOOKWIRE_HOST: "127.0.0.1",
      HOOKWIRE_PORT: String(await freePort()),
      HOOKWIRE_WORKER_METRICS_PORT: String(await freePort()),
      HOOKWIRE_API_KEY: `partitions-${randomBytes(12).toString("hex")}`,
      HOOKWIRE_SECRET_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  processes.push(child);
  child.stdout?.on("data", (chunk) => output.push(String(chunk)));
  child.stderr?.on("data", (chunk) => output.push(String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (exit) => resolve(exit)));
  return { code, text: output.join("") };
}

describe("changing HOOKWIRE_QUEUE_PARTITIONS", () => {
  test("ingest and the worker refuse to start while the recorded partitions hold unsettled batches", async () => {
    const recorded = new Partitions(prefix, 3);
    await settlePartitionCount(redis, recorded);
    await redis.hset(recorded.all[2]!.keys.outbox, "hk.batch-0", "{}");

    for (const service of ["ingest", "worker"] as const) {
      const { code, text } = await start(service, 2);
      expect(code).toBe(1);
      expect(text).toContain(
        `hookwire ${service}: HOOKWIRE_QUEUE_PARTITIONS=2, but Redis holds 1 unsettled batch in partition 2 of the 3 it was started with`,
      );
      expect(text).toContain("start with HOOKWIRE_QUEUE_PARTITIONS=3 and let the workers drain them");
    }
    expect(await redis.get(recorded.base.keys.partitions)).toBe("3");
  });
});
