import { Partitions } from "@hookwire/queue";
import { DeliveryLog, type DeliveryRecord, encodeClaim } from "@hookwire/store";
import { afterAll, describe, expect, it } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { countPending, readRecords } from "./records";

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
