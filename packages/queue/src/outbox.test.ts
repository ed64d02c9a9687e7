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

function grouped(id: string, hookId: string, job: string): OutboxBatch {
  const delivery = {
    id: `${hookId}.${id}`,
    entryId: id,
    acceptedAt: 1,
    attemptsMade: 0,
    templateKey: "default",
  };
  return { id, data: { hookId, deliveries: [{ ...delivery, body: "{}" }] }, job };
}

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

  test("bodies are kept as they are after the batch's JSON, not escaped inside it; older values still read", () => {
    const body = '{"title":"a \\"quoted\\" word\\nand a line","emoji":"🚀"}';
    const delivery = { acceptedAt: 1, attemptsMade: 0, templateKey: "t" };
    const mixed: OutboxBatch = {
      id: "m1",
      data: {
        hookId: "hk_a",
        deliveries: [
          { ...delivery, id: "hk_a.e1", entryId: "e1", body },
          { ...delivery, id: "hk_a.e2", entryId: "e2", entry: { _id: "e2" } },
          { ...delivery, id: "hk_a.e3", entryId: "e3", body: "" },
          { ...delivery, id: "hk_a.e4", entryId: "e4", body: "{}" },
        ],
      },
    };
    const raw = encodeBatch(mixed);
    expect(raw.endsWith(`\n${body}{}`)).toBe(true);
    expect(decodeBatch("m1", raw)).toEqual(mixed);
    const before = JSON.stringify({ job: "", notBefore: 0, data: mixed.data });
    expect(decodeBatch("m1", before)).toEqual(mixed);
  });

  test("a batch's job of many is in its value, first, so the sweep script can read it without decoding", () => {
    const raw = encodeBatch(grouped("g1", "hk_a", "req-1-0"));
    expect(raw.startsWith('{"job":"req-1-0",')).toBe(true);
    expect(decodeBatch("g1", raw)).toEqual(grouped("g1", "hk_a", "req-1-0"));
  });

  test("batches that name one job are relayed as that job, which names each batch, its hook and size", async () => {
    const now = Date.now();
    const batches = [
      grouped("rel-a", "hk_a", "req-rel-0"),
      grouped("rel-b", "hk_b", "req-rel-0"),
      batch("rel-own"),
    ];
    await commit(batches, now);
    await outbox.relay(batches, now);
    // Queued at once, each names how long its batch's lease lasts at least: its due in the outbox.
    const leasedUntil = now + LEASE_MS;
    expect((await queue.getJob("req-rel-0"))?.data).toEqual({
      batches: [
        { id: "rel-a", hookId: "hk_a", size: 1, leasedUntil },
        { id: "rel-b", hookId: "hk_b", size: 1, leasedUntil },
      ],
    });
    expect((await queue.getJob("rel-own"))?.data).toEqual({ hookId: "hk_a", size: 1, leasedUntil });
    expect(Number(await redis.zscore(keys.outboxDue, "rel-own"))).toBeGreaterThanOrEqual(leasedUntil);
    expect(await queue.getJob("rel-a")).toBeUndefined();
  });

  test("a batch of a job of many is left alone while that job lives; once it is gone, it is queued again as that job", async () => {
    const now = Date.now();
    const batches = [grouped("swg-a", "hk_a", "req-swg-0"), grouped("swg-b", "hk_b", "req-swg-0")];
    await commit(batches, now);
    await outbox.relay(batches, now);
    const first = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(first.requeued.map((b) => b.id)).not.toContain("swg-a");
    // The job ran and completed (BullMQ removes it), its batches handed to a worker that died.
    await (await queue.getJob("req-swg-0"))?.remove();
    const later = now + 3 * LEASE_MS;
    const swept = await outbox.sweep(redis, () => false, later);
    expect(swept.requeued.map((b) => b.id).sort()).toEqual(["swg-a", "swg-b"]);
    expect((await queue.getJob("req-swg-0"))?.data).toEqual({
      batches: [
        { id: "swg-a", hookId: "hk_a", size: 1, leasedUntil: later + LEASE_MS },
        { id: "swg-b", hookId: "hk_b", size: 1, leasedUntil: later + LEASE_MS },
      ],
    });
    // The sweep's own lease is what the job names: never later than the outbox's due.
    expect(Number(await redis.zscore(keys.outboxDue, "swg-a"))).toBeGreaterThanOrEqual(later + LEASE_MS);
  });

  test("a batch a job of many sent back on its own is left alone while its own job lives", async () => {
    const now = Date.now();
    const sentBack = grouped("back-a", "hk_a", "req-back-0");
    await commit([sentBack], now);
    // Its job of many ran (and is gone); the hook was busy, so the batch went back alone.
    await outbox.requeue(
      [{ ref: { id: "back-a", hookId: "hk_a", size: 1 }, notBefore: now + 10 * LEASE_MS }],
      now,
    );
    expect(await (await queue.getJob("back-a"))?.getState()).toBe("delayed");
    const swept = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).not.toContain("back-a");
    expect(Number(await redis.zscore(keys.outboxDue, "back-a"))).toBeGreaterThan(now + 10 * LEASE_MS);
  });

  test("a committed batch that was never relayed is relayed by a sweep once its lease ran out, not before", async () => {
    const now = Date.now();
    await commit([batch("never-relayed")], now);
    expect((await outbox.sweep(redis, () => false, now + LEASE_MS - 1)).requeued).toEqual([]);
    const swept = await outbox.sweep(redis, () => false, now + LEASE_MS + 1);
    expect(swept.requeued.map((b) => b.id)).toEqual(["never-relayed"]);
    // The job names its hook and how many deliveries its batch holds; they stay in the outbox.
    const job = await queue.getJob("never-relayed");
    expect(job?.data).toEqual({ hookId: "hk_a", size: 1, leasedUntil: now + LEASE_MS + 1 + LEASE_MS });
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
