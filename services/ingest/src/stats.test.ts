import {
  DELIVERY_QUEUE,
  type DeliveryJobData,
  keyspace,
  LATENCY_BUCKETS_SECONDS,
  Partitions,
} from "@hookwire/queue";
import { generateSecretKey, HookStore, healthView, SecretBox } from "@hookwire/store";
import { Queue } from "bullmq";
import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import {
  percentiles,
  readQueue,
  readStats,
  readStuckLastHour,
  recordIntake,
  type StatsSources,
} from "./stats";

const redis = testRedis();
const prefix = uniquePrefix("ingest-stats");
const keys = keyspace(prefix);
const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix });
const hooks = new HookStore(redis, keys, new SecretBox(generateSecretKey()), { cacheMs: 0 });
const sources: StatsSources = {
  redis,
  partitions: new Partitions(prefix),
  queues: [queue],
  hooks,
  async readHealth(ids) {
    return Promise.all(
      ids.map(async (id) => {
        return healthView(await redis.hgetall(keys.hookHealth(id)));
      }),
    );
  },
  readPersistence: async () => null,
};

afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const histogram = (buckets: [number, number][], sumMs = 0) => ({ buckets: new Map(buckets), sumMs });

describe("percentiles", () => {
  test("interpolate within buckets from the bound below, as Prometheus' histogram_quantile does", () => {
    // 10 in (0, 10 ms], 10 in (25 ms, 50 ms]; the empty (10 ms, 25 ms] bucket still sets the lower edge.
    const result = percentiles(
      histogram(
        [
          [0.01, 10],
          [0.05, 10],
        ],
        600,
      ),
      [0.01, 0.025, 0.05, 0.1],
    );
    expect(result).toEqual({ count: 20, meanMs: 30, p50: 10, p95: 47.5, p99: 49.5 });
  });

  test("a rank in the +Inf bucket answers the highest finite bound; no observations answer null", () => {
    const result = percentiles(histogram([[Number.POSITIVE_INFINITY, 3]]), [0.01, 0.1]);
    expect(result).toMatchObject({ count: 3, p50: 100, p99: 100 });
    expect(percentiles(histogram([]), [0.01])).toBeNull();
  });
});

describe("readStats", () => {
  test("sums the last hour's minutes, ignores older ones, and shows each hook's share", async () => {
    const hook = await hooks.create(
      { integration: "generic-webhook", name: "receiver", formVariables: {} },
      new Set(),
    );
    const now = Date.UTC(2026, 0, 1, 12, 30, 20);
    const minute = (offset: number) => keys.statsMinute(Math.floor(now / 60e3) - offset);
    await redis.hset(minute(0), {
      "deliveries:succeeded": 3,
      "attempts:succeeded": 3,
      "latency:le:0.05": 3,
      "latency:sum_ms": 90,
      [`hook:${hook.id}:succeeded`]: 3,
      "queue:waiting": 4,
    });
    await redis.hset(minute(5), {
      "deliveries:failed": 2,
      "attempts:failed": 2,
      [`hook:${hook.id}:failed`]: 2,
    });
    await redis.hset(minute(60), { "deliveries:failed": 100 });
    await recordIntake(
      redis,
      keys,
      [
        {
          id: "e1",
          duplicate: false,
          hooks: [{ hookId: hook.id, deliveryId: `${hook.id}.e1`, outcome: "render_failed", reason: "boom" }],
        },
        { id: "e2", duplicate: true, hooks: [] },
      ],
      now,
    );

    const stats = await readStats(sources, now);
    expect(stats.minutes).toHaveLength(60);
    expect(stats.minutes.at(-1)).toMatchObject({
      at: "2026-01-01T12:30:00.000Z",
      seconds: 20,
      deliveries: { succeeded: 3, failed: 1, skipped: 0, stuck: 0 },
      queue: { waiting: 4 },
    });
    expect(stats.minutes.at(-6)?.deliveries.failed).toBe(2);
    expect(stats.minutes.at(-2)?.queue).toBeNull();
    expect(stats.totals.deliveries).toEqual({ succeeded: 3, failed: 3, skipped: 0, stuck: 0 });
    expect(stats.totals.attempts).toEqual({ succeeded: 3, retry: 0, failed: 2 });
    const lower = LATENCY_BUCKETS_SECONDS[LATENCY_BUCKETS_SECONDS.indexOf(0.05) - 1]! * 1e3;
    expect(stats.latencyMs.endToEnd).toEqual({
      count: 3,
      meanMs: 30,
      p50: (lower + 50) / 2,
      p95: expect.any(Number),
      p99: expect.any(Number),
    });
    expect(stats.hooks).toEqual([
      expect.objectContaining({
        id: hook.id,
        name: "receiver",
        state: "enabled",
        lastHour: { succeeded: 3, failed: 3 },
        health: { circuit: "closed", consecutiveFailures: 0 },
      }),
    ]);
  });

  test("counts the deliveries the sweeper found stuck, per minute and over the hour only", async () => {
    const now = Date.UTC(2026, 0, 2, 9, 15, 40);
    const minute = (offset: number) => keys.statsMinute(Math.floor(now / 60e3) - offset);
    // As the worker's sweeper writes them: HINCRBY in the minute it found them.
    await redis.hincrby(minute(0), "deliveries:stuck", 3);
    await redis.hincrby(minute(12), "deliveries:stuck", 2);
    await redis.hincrby(minute(60), "deliveries:stuck", 50);

    const stats = await readStats(sources, now);
    expect(stats.minutes.at(-1)?.deliveries.stuck).toBe(3);
    expect(stats.minutes.at(-13)?.deliveries.stuck).toBe(2);
    expect(stats.totals.deliveries.stuck).toBe(5);
    expect(await readStuckLastHour(sources, now)).toBe(5);
  });

  test("the queue's oldest waiting job is timed from when it became due", async () => {
    const now = Date.now();
    // Added first, due first: at the head of the wait list.
    await queue.add("deliver", { hookId: "hk_x", size: 0 }, { timestamp: now - 60_000 });
    await queue.add("deliver", { hookId: "hk_y", size: 0 }, { timestamp: now - 1_000 });
    const snapshot = await readQueue([queue], now);
    expect(snapshot.jobs.waiting).toBe(2);
    expect(snapshot.oldestWaitingAgeSeconds).toBe(60);
  });
});
