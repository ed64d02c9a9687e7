import { keyspace, STATS_TTL_MS } from "@hookwire/queue";
import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { bucketOf, StatsRecorder } from "./stats-recorder";

const redis = testRedis();
const prefix = uniquePrefix("stats-recorder");
const keys = keyspace(prefix);

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe("bucketOf", () => {
  test("a value on a bound falls in that bound's bucket, past the last in +Inf, as Prometheus' le", () => {
    const bounds = [0.01, 0.1, 1];
    expect(bucketOf(0, bounds)).toBe("0.01");
    expect(bucketOf(0.01, bounds)).toBe("0.01");
    expect(bucketOf(0.010001, bounds)).toBe("0.1");
    expect(bucketOf(1, bounds)).toBe("1");
    expect(bucketOf(1.5, bounds)).toBe("+Inf");
  });
});

describe("StatsRecorder", () => {
  test("one job's outcomes are counted on the minute's hash in one command, and it expires", async () => {
    const recorder = new StatsRecorder(keys);
    const now = Date.UTC(2026, 0, 1, 12, 30, 15);
    const pipeline = redis.pipeline();
    recorder.record(
      pipeline,
      [
        {
          hookId: "hk_a",
          status: "succeeded",
          acceptedAt: now - 40,
          attempt: { outcome: "succeeded", durationMs: 12.4 },
        },
        {
          hookId: "hk_a",
          status: "succeeded",
          acceptedAt: now - 3_000,
          attempt: { outcome: "succeeded", durationMs: 4 },
        },
        {
          hookId: "hk_a",
          status: "failed",
          acceptedAt: now - 90,
          attempt: { outcome: "failed", durationMs: 30 },
        },
        {
          hookId: "hk_a",
          status: "pending",
          acceptedAt: now - 90,
          attempt: { outcome: "retry", durationMs: 700 },
        },
        { hookId: "hk_a", status: "skipped", acceptedAt: now - 90 },
      ],
      now,
    );
    expect(pipeline.length).toBe(1);
    await pipeline.exec();
    const key = keys.statsMinute(Math.floor(now / 60e3));
    expect(await redis.hgetall(key)).toEqual({
      "deliveries:succeeded": "2",
      "deliveries:failed": "1",
      "deliveries:skipped": "1",
      "attempts:succeeded": "2",
      "attempts:failed": "1",
      "attempts:retry": "1",
      "attempt:le:0.005": "1",
      "attempt:le:0.025": "1",
      "attempt:le:0.05": "1",
      "attempt:le:1": "1",
      "attempt:sum_ms": String(12 + 4 + 30 + 700),
      "latency:le:0.05": "1",
      "latency:le:5": "1",
      "latency:sum_ms": "3040",
      "hook:hk_a:succeeded": "2",
      "hook:hk_a:failed": "1",
    });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(STATS_TTL_MS - 60e3);
    expect(ttl).toBeLessThanOrEqual(STATS_TTL_MS);
  });

  test("a queue sample keeps the latest count of each state", async () => {
    const recorder = new StatsRecorder(keys);
    const now = Date.UTC(2026, 0, 1, 13, 0, 0);
    await recorder.sampleQueue(redis, { waiting: 7, delayed: 2 }, now);
    await recorder.sampleQueue(redis, { waiting: 3, delayed: 2 }, now + 10e3);
    expect(await redis.hgetall(keys.statsMinute(Math.floor(now / 60e3)))).toEqual({
      "queue:waiting": "3",
      "queue:delayed": "2",
    });
  });
});
