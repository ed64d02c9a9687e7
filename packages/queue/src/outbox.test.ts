import { Queue } from "bullmq";
import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import type { DeliveryBatch, DeliveryJobData } from "./job";
import { DELIVERY_QUEUE, keyspace } from "./names";
import { decodeBatch, encodeBatch, jobBackoffMs, Outbox, type OutboxBatch } from "./outbox";

const redis = testRedis();
const prefix = uniquePrefix("outbox");
const keys = keyspace(prefix);
const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix });
const LEASE_MS = 1_000;
const outbox = new Outbox(keys, queue, LEASE_MS);

afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function batch(id: string, notBefore?: number): OutboxBatch {
  const data: DeliveryBatch = {
    hookId: "hk_a",
    deliveries: [
      { id: `hk_a.${id}`, entryId: id, acceptedAt: 1, attemptsMade: 0, templateKey: "default", body: "{}" },
    ],
  };
  return notBefore === undefined ? { id, data } : { id, data, notBefore };
}

async function commit(batches: OutboxBatch[], now: number): Promise<void> {
  const tx = redis.multi();
  outbox.stage(tx, batches, now);
  await tx.exec();
}

describe("Outbox", () => {
  test("a batch's value decodes to what was encoded", () => {
    expect(decodeBatch("b1", encodeBatch(batch("b1", 5)))).toEqual(batch("b1", 5));
    expect(decodeBatch("b2", encodeBatch(batch("b2")))).toEqual(batch("b2"));
  });

  test("a committed batch that was never relayed is relayed by a sweep once its lease ran out, not before", async () => {
    const now = Date.now();
    await commit([batch("never-relayed")], now);
    expect((await outbox.sweep(redis, () => false, now + LEASE_MS - 1)).requeued).toEqual([]);
    const swept = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).toEqual(["never-relayed"]);
    // The job names its hook and how many deliveries its batch holds; they stay in the outbox.
    const job = await queue.getJob("never-relayed");
    expect(job?.data).toEqual({ hookId: "hk_a", size: 1 });
    expect((await outbox.hold(redis, "never-relayed"))?.data.deliveries[0]?.entryId).toBe("never-relayed");
    // Taken by that sweep for a lease: a second sweeper at the same moment does not take it too.
    expect((await outbox.sweep(redis, () => false, now + LEASE_MS + 2)).requeued).toEqual([]);
  });

  test("a batch whose job is still queued is left alone and due again a lease later", async () => {
    const now = Date.now();
    await commit([batch("queued")], now);
    await outbox.relay([batch("queued")], now);
    const swept = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).not.toContain("queued");
    const due = Number(await redis.zscore(keys.outboxDue, "queued"));
    expect(due).toBeGreaterThanOrEqual(now + LEASE_MS + 1 + LEASE_MS);
  });

  test("a batch held and renewed by a worker is not swept; one the sweeper's own process holds is left to it", async () => {
    const now = Date.now();
    await commit([batch("held"), batch("mine")], now);
    await outbox.renew(redis, ["held"], now + 2 * LEASE_MS);
    const swept = await outbox.sweep(redis, (id) => id === "mine", now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).not.toContain("held");
    expect(swept.requeued.map((b) => b.id)).not.toContain("mine");
    expect(await queue.getJob("mine")).toBeUndefined();
  });

  test("a settled batch is gone from the outbox and never swept", async () => {
    const now = Date.now();
    await commit([batch("settled")], now);
    const tx = redis.multi();
    outbox.settle(tx, ["settled"]);
    await tx.exec();
    expect(await outbox.hold(redis, "settled")).toBeUndefined();
    const swept = await outbox.sweep(redis, () => false, now + 10 * LEASE_MS);
    expect(swept.requeued.map((b) => b.id)).not.toContain("settled");
    expect(await redis.zscore(keys.outboxDue, "settled")).toBeNull();
  });

  test("a batch whose job failed for good is queued again under the same id", async () => {
    const now = Date.now();
    await commit([batch("failed-job")], now);
    await outbox.relay([batch("failed-job")], now);
    // As BullMQ leaves a job that failed for good: finished, in the failed set.
    await redis.hset(queue.toKey("failed-job"), "finishedOn", now, "failedReason", "boom");
    const swept = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).toEqual(["failed-job"]);
    const job = await queue.getJob("failed-job");
    expect(job?.finishedOn).toBeUndefined();
  });

  test("a relayed batch keeps its not-before as the job's delay", async () => {
    const now = Date.now();
    await outbox.relay([batch("later", now + 60_000)], now);
    const job = await queue.getJob("later");
    expect(job?.opts.delay).toBe(60_000);
    expect(await job?.getState()).toBe("delayed");
  });

  test("a thrown job's backoff doubles from about a second and stops at five minutes", () => {
    const mid = () => 0.5;
    expect(jobBackoffMs(1, mid)).toBe(1_000);
    expect(jobBackoffMs(2, mid)).toBe(2_000);
    expect(jobBackoffMs(30, mid)).toBe(300_000);
    expect(jobBackoffMs(1, () => 0)).toBe(800);
  });
});
