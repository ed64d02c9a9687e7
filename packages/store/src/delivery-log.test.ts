import { keyspace } from "@hookwire/queue";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { DeliveryLog, type DeliveryRecord, decodeRecord, encodeRecord } from "./delivery-log";

const redis = testRedis();
const prefix = uniquePrefix("deliveries");
const log = new DeliveryLog(redis, keyspace(prefix));

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function record(i: number, hookId: string, acceptedAt: number): DeliveryRecord {
  return {
    id: `${hookId}.e${i}`,
    hookId,
    entryId: `e${i}`,
    status: "pending",
    acceptedAt,
    updatedAt: acceptedAt,
    attempts: [],
  };
}

describe("DeliveryLog", () => {
  // 250 deliveries in one millisecond (one batch) and 50 later ones, over two hooks.
  const batch = Array.from({ length: 250 }, (_, i) => record(i, i % 2 === 0 ? "hk_a" : "hk_b", 1_000));
  const later = Array.from({ length: 50 }, (_, i) => record(1000 + i, "hk_a", 2_000 + i));

  beforeAll(async () => {
    const pipeline = redis.pipeline();
    log.recordAccepted(pipeline, [...batch, ...later]);
    await pipeline.exec();
  });

  test("pages through every delivery exactly once, newest first, across equal scores", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list({ limit: 37, ...(cursor ? { cursor } : {}) });
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    expect(seen[0]).toBe("hk_a.e1049");
  });

  test("filters by hook and by entry", async () => {
    const page = await log.list({ hookId: "hk_b", limit: 500 });
    expect(page.deliveries).toHaveLength(125);
    expect(page.deliveries.every((d) => d.hookId === "hk_b")).toBe(true);
    const one = await log.list({ entryId: "e7", limit: 10 });
    expect(one.deliveries.map((d) => d.id)).toEqual(["hk_b.e7"]);
  });

  test("keeps dead letters in their own index and moves them out on success", async () => {
    const failed = { ...record(5000, "hk_c", 3_000), status: "failed" as const, reason: "HTTP 400" };
    let pipeline = redis.pipeline();
    log.recordUpdates(pipeline, [{ record: failed, previous: "pending" }]);
    await pipeline.exec();
    expect((await log.list({ status: "failed" })).deliveries.map((d) => d.id)).toEqual(["hk_c.e5000"]);
    pipeline = redis.pipeline();
    log.recordUpdates(pipeline, [{ record: { ...failed, status: "succeeded" }, previous: "failed" }]);
    await pipeline.exec();
    expect((await log.list({ status: "failed" })).deliveries).toEqual([]);
    expect((await log.get("hk_c.e5000"))?.status).toBe("succeeded");
  });

  test("drops index members whose record expired", async () => {
    await redis.del(keyspace(prefix).delivery("hk_a.e1049"));
    const page = await log.list({ limit: 1 });
    expect(page.deliveries[0]?.id).toBe("hk_a.e1048");
    expect(await redis.zscore(keyspace(prefix).deliveriesByTime, "hk_a.e1049")).toBeNull();
  });

  test("a commit's records keep their status's retention and, written twice, their last state", async () => {
    const own = new DeliveryLog(redis, keyspace(prefix), { succeeded: 60_000, failed: 600_000 });
    const at = 4_000;
    const one = (i: number, status: DeliveryRecord["status"]) => ({
      ...record(6000 + i, "hk_d", at),
      status,
    });
    const pipeline = redis.multi();
    own.recordUpdates(pipeline, [
      { record: one(0, "succeeded") },
      { record: one(1, "succeeded") },
      { record: one(2, "failed"), previous: "pending" },
      { record: one(3, "pending") },
      { record: one(0, "failed"), previous: "succeeded" },
    ]);
    await pipeline.exec();
    const ttl = async (i: number) => redis.pttl(keyspace(prefix).delivery(`hk_d.e${6000 + i}`));
    expect(await ttl(1)).toBeGreaterThan(50_000);
    expect(await ttl(1)).toBeLessThanOrEqual(60_000);
    for (const i of [0, 2, 3]) expect(await ttl(i)).toBeGreaterThan(60_000);
    expect((await own.get("hk_d.e6000"))?.status).toBe("failed");
    expect((await own.get("hk_d.e6003"))?.status).toBe("pending");
  });
});

describe("a record as kept", () => {
  const succeeded: DeliveryRecord = {
    id: "hk_a.entry.with.dots",
    hookId: "hk_a",
    entryId: "entry.with.dots",
    status: "succeeded",
    templateKey: "flag",
    acceptedAt: 1_796_170_320_835,
    updatedAt: 1_796_170_321_900,
    attempts: [
      {
        attempt: 1,
        at: 1_796_170_320_850,
        durationMs: 3_001,
        outcome: "retry",
        errorCode: "DELIVERY_ERR_TIMEOUT",
      },
      { attempt: 2, at: 1_796_170_321_850, durationMs: 11, outcome: "done", statusCode: 204 },
    ],
  };

  test("a delivery that succeeded at its first attempt is kept compact: its times, the attempt and its template", () => {
    const first: DeliveryRecord = { ...succeeded, attempts: [{ ...succeeded.attempts[1]!, attempt: 1 }] };
    const kept = encodeRecord(first);
    expect(kept.length).toBeLessThan(60);
    expect(decodeRecord(first.id, kept)).toEqual(first);
  });

  test("a delivery that succeeded after failed attempts keeps every attempt", () => {
    expect(encodeRecord(succeeded)).toBe(JSON.stringify(succeeded));
  });

  test("every other record is kept whole, failed ones with their reason and payload", () => {
    const failed: DeliveryRecord = {
      ...succeeded,
      status: "failed",
      reason: "HTTP 400",
      attempts: [succeeded.attempts[0]!],
    };
    const pending: DeliveryRecord = { ...succeeded, status: "pending", attempts: [] };
    const withError: DeliveryRecord = {
      ...succeeded,
      attempts: [{ ...succeeded.attempts[1]!, errorBody: "kept" }],
    };
    for (const record of [failed, pending, withError]) {
      expect(encodeRecord(record)).toBe(JSON.stringify(record));
      expect(decodeRecord(record.id, encodeRecord(record))).toEqual(record);
    }
  });

  test("a compact record reads back the same through the log, alone and with others", async () => {
    const pipeline = redis.pipeline();
    const attempts = [succeeded.attempts[1]!];
    log.recordUpdates(pipeline, [
      { record: { ...succeeded, id: "hk_z.e1", hookId: "hk_z", entryId: "e1", attempts } },
    ]);
    await pipeline.exec();
    expect(await redis.get(keyspace(prefix).delivery("hk_z.e1"))).toMatch(/^~1\|/);
    expect(await log.get("hk_z.e1")).toMatchObject({ hookId: "hk_z", entryId: "e1", status: "succeeded" });
    expect((await log.getMany(["hk_z.e1"])).get("hk_z.e1")?.attempts).toEqual(attempts);
  });
});
