import { DELIVERY_QUEUE, Outbox, Partitions } from "@hookwire/queue";
import { DeliveryLog, type DeliveryRecord, encodeClaim } from "@hookwire/store";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { countPending, readRecords, whereabouts } from "./records";

const redis = testRedis();
const prefix = uniquePrefix("chaos-records");
const partitions = new Partitions(prefix, 2);

afterAll(async () => {
  for (const { prefix } of partitions.all) await dropPrefix(redis, prefix);
  redis.disconnect();
});

function record(
  hookId: string,
  entryId: string,
  status: DeliveryRecord["status"],
  extra = {},
): DeliveryRecord {
  return {
    id: `${hookId}.${entryId}`,
    hookId,
    entryId,
    status,
    acceptedAt: 5_000,
    updatedAt: 5_000,
    attempts: [],
    ...extra,
  };
}

describe("the harness's reading of delivery records", () => {
  it("counts pending records both in buckets and kept whole, and reads each one's status", async () => {
    const records = [
      record("hk_a", "e1", "pending"), // compact, in its bucket
      record("hk_a", "e2", "pending", { nextAttemptAt: 9_000 }), // retrying: kept whole
      record("hk_b", "e3", "pending"),
      record("hk_b", "e4", "succeeded", {
        attempts: [{ attempt: 1, at: 5_001, durationMs: 2, statusCode: 200, outcome: "done" }],
      }),
    ];
    for (const { partition, items } of partitions.group(records, (r) => r.hookId)) {
      const tx = redis.multi();
      new DeliveryLog(redis, partition.keys).recordAccepted(tx, items);
      await tx.exec();
    }
    for (const r of records)
      await redis.set(partitions.base.keys.entrySeen(r.entryId), encodeClaim("req", 5_000));

    expect(await countPending(redis, partitions)).toBe(3);
    expect(await countPending(redis, partitions, ["hk_a"])).toBe(2);
    const read = await readRecords(
      redis,
      partitions,
      records.map((r) => r.id),
    );
    expect(Object.fromEntries([...read].map(([id, view]) => [id, view.status]))).toEqual({
      "hk_a.e1": "pending",
      "hk_a.e2": "pending",
      "hk_b.e3": "pending",
      "hk_b.e4": "succeeded",
    });
  });
});

describe("the harness's whereabouts of a missing delivery", () => {
  it("names the outbox batch, its due time and its job's state, or says no batch holds it", async () => {
    const partition = partitions.of("hk_w");
    const queue = new Queue(DELIVERY_QUEUE, { connection: redis, prefix: partition.prefix });
    try {
      const outbox = new Outbox(partition.keys, queue, 30_000);
      const now = Date.now();
      const batch = {
        id: "b-late",
        notBefore: now + 60_000,
        data: {
          hookId: "hk_w",
          deliveries: [{ id: "hk_w.e1", entryId: "e1", acceptedAt: now, attemptsMade: 1, templateKey: "t" }],
        },
      };
      const tx = redis.multi();
      outbox.stage(tx, [batch], now);
      await tx.exec();
      await outbox.relay([batch], now);

      const [held, absent] = await whereabouts(redis, partitions, ["hk_w.e1", "hk_w.e2"], now);
      expect(held).toMatch(
        /^hk_w\.e1: no record; batch b-late \(1 deliveries\), due in 90000 ms, job b-late: delayed \(runs in 6\d{4} ms\), timestamp=\d+ delay=60000$/,
      );
      expect(absent).toBe("hk_w.e2: no record; in no outbox batch");
    } finally {
      await queue.close();
    }
  });
});
