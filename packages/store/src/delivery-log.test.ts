import { keyspace } from "@hookwire/queue";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { DeliveryLog, type DeliveryRecord, decodeRecord, encodeRecord } from "./delivery-log";
import { encodeClaim } from "./request-trace";

const redis = testRedis();
const prefix = uniquePrefix("deliveries");
const log = new DeliveryLog(redis, keyspace(prefix));

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** Claims for `entryIds`, as a request accepted at `at` leaves them. */
async function claim(entryIds: readonly string[], at: number): Promise<void> {
  for (const entryId of entryIds)
    await redis.set(keyspace(prefix).entrySeen(entryId), encodeClaim("req-test", at));
}

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

  test("drops index members whose bucket expired", async () => {
    await redis.del(keyspace(prefix).deliveryBucket("hk_a", 20), keyspace(prefix).pendingBucket("hk_a", 20));
    const page = await log.list({ hookId: "hk_a", limit: 1 });
    // The batch at 1 000 ms is next: the greatest id first among equal times.
    expect(page.deliveries[0]?.id).toBe("hk_a.e98");
    expect(
      (await log.list({ limit: 500 })).deliveries.some((d) => d.hookId === "hk_a" && d.acceptedAt >= 2_000),
    ).toBe(false);
    expect(await redis.zscore(keyspace(prefix).deliveriesByTime, "@20:hk_a")).toBeNull();
    expect(await redis.zscore(keyspace(prefix).deliveriesByHook("hk_a"), "@20")).toBeNull();
  });

  test("a commit's records keep their kind's retention and, written twice, their last state", async () => {
    const own = new DeliveryLog(redis, keyspace(prefix), {
      retention: { succeeded: 60_000, failed: 600_000 },
    });
    const at = 4_000;
    const one = (i: number, status: DeliveryRecord["status"]): DeliveryRecord => ({
      ...record(6000 + i, "hk_d", at),
      status,
      attempts:
        status === "pending" ? [] : [{ attempt: 1, at, durationMs: 3, statusCode: 200, outcome: "done" }],
    });
    await claim(["e6000", "e6001", "e6002", "e6003"], at);
    const pipeline = redis.multi();
    own.recordUpdates(pipeline, [
      { record: one(0, "succeeded") },
      { record: one(1, "succeeded") },
      { record: one(2, "failed"), previous: "pending" },
      { record: one(3, "pending") },
      { record: one(0, "failed"), previous: "succeeded" },
    ]);
    await pipeline.exec();
    const bucket = keyspace(prefix).deliveryBucket("hk_d", 40);
    expect(await redis.pttl(bucket)).toBeGreaterThan(50_000);
    expect(await redis.pttl(bucket)).toBeLessThanOrEqual(60_000);
    expect(Object.keys(await redis.hgetall(bucket))).toEqual(["e6001"]);
    // Still pending: apart, kept as long as a failed record.
    const waiting = keyspace(prefix).pendingBucket("hk_d", 40);
    expect(Object.keys(await redis.hgetall(waiting))).toEqual(["e6003"]);
    expect(await redis.pttl(waiting)).toBeGreaterThan(60_000);
    for (const i of [0, 2])
      expect(await redis.pttl(keyspace(prefix).delivery(`hk_d.e${6000 + i}`))).toBeGreaterThan(60_000);
    expect((await own.get("hk_d.e6000"))?.status).toBe("failed");
    expect((await own.get("hk_d.e6003"))?.status).toBe("pending");
    const listed = (await own.list({ hookId: "hk_d" })).deliveries.map((d) => d.id);
    expect(listed.sort()).toEqual(["hk_d.e6000", "hk_d.e6001", "hk_d.e6002", "hk_d.e6003"]);
  });
});

describe("compact records in buckets", () => {
  const at = 9_000_050;
  const pending = (i: number): DeliveryRecord => record(i, "hk_k", at + i);

  test("are found by id through their entry's claim, and not without one", async () => {
    const pipeline = redis.multi();
    log.recordAccepted(pipeline, [pending(1), pending(2)]);
    await pipeline.exec();
    await claim(["e1"], at + 1);
    expect(await log.get("hk_k.e1")).toEqual(pending(1));
    expect(await log.get("hk_k.e2")).toBeUndefined();
    expect(await redis.exists(keyspace(prefix).delivery("hk_k.e1"))).toBe(0);
  });

  test("a record retried leaves its bucket for a key of its own, and is listed once", async () => {
    const retrying: DeliveryRecord = {
      ...pending(1),
      updatedAt: at + 500,
      nextAttemptAt: at + 60_000,
      attempts: [{ attempt: 1, at: at + 10, durationMs: 5, statusCode: 503, outcome: "retry" }],
    };
    const pipeline = redis.multi();
    log.recordUpdates(pipeline, [{ record: retrying }]);
    await pipeline.exec();
    expect(await redis.hexists(keyspace(prefix).deliveryBucket("hk_k", 90_000), "e1")).toBe(0);
    expect(await log.get("hk_k.e1")).toEqual(retrying);
    const listed = (await log.list({ hookId: "hk_k" })).deliveries.map((d) => d.id);
    expect(listed).toEqual(["hk_k.e2", "hk_k.e1"]);
  });

  test("a delivery left waiting keeps its pending bucket for another failed retention", async () => {
    const own = new DeliveryLog(redis, keyspace(prefix), {
      retention: { succeeded: 60_000, failed: 600_000 },
    });
    const waiting = record(3, "hk_wait", at);
    const pipeline = redis.multi();
    own.recordAccepted(pipeline, [waiting]);
    await pipeline.exec();
    const bucket = keyspace(prefix).pendingBucket("hk_wait", Math.floor(at / 100));
    await redis.pexpire(bucket, 1_000);
    const kept = redis.multi();
    own.keepPending(kept, "hk_wait", [waiting]);
    await kept.exec();
    expect(await redis.pttl(bucket)).toBeGreaterThan(500_000);
  });

  test("pages neither repeat nor skip when the newest bucket grows between them", async () => {
    const hookId = "hk_grow";
    const base = 12_000_000;
    const write = async (from: number, to: number) => {
      const pipeline = redis.multi();
      log.recordAccepted(
        pipeline,
        Array.from({ length: to - from }, (_, i) => record(from + i, hookId, base + from + i)),
      );
      await pipeline.exec();
    };
    await write(0, 40);
    const first = await log.list({ hookId, limit: 15 });
    await write(40, 60); // newer, in the same bucket
    const seen = first.deliveries.map((d) => d.entryId);
    let cursor = first.nextCursor;
    while (cursor !== undefined) {
      const page = await log.list({ hookId, limit: 15, cursor });
      seen.push(...page.deliveries.map((d) => d.entryId));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `e${39 - i}`));
  });

  test("trimming drops buckets past the succeeded retention, keeps whole records to the failed one and pending ones while they wait", async () => {
    const own = new DeliveryLog(redis, keyspace(prefix), {
      retention: { succeeded: 1_000_000, failed: 5_000_000 },
    });
    const hookId = "hk_trim";
    const waits = "hk_trim_wait";
    const old = 20_000_000;
    const failed: DeliveryRecord = { ...record(2, hookId, old), status: "failed", reason: "HTTP 400" };
    const succeeded: DeliveryRecord = {
      ...record(1, hookId, old),
      status: "succeeded",
      attempts: [{ attempt: 1, at: old, durationMs: 3, statusCode: 200, outcome: "done" }],
    };
    const pipeline = redis.multi();
    own.recordAccepted(pipeline, [failed, record(3, waits, old)]);
    own.recordUpdates(pipeline, [{ record: succeeded }]);
    await pipeline.exec();
    await claim(["e3"], old);
    await own.trimIndexes([hookId, waits], old + 2_000_000);
    const byHook = keyspace(prefix).deliveriesByHook(hookId);
    expect(await redis.zrange(byHook, 0, -1)).toEqual([failed.id]);
    expect(await redis.zscore(keyspace(prefix).deliveriesByTime, `@${old / 100}:${hookId}`)).toBeNull();
    expect(await redis.zscore(keyspace(prefix).deliveriesByTime, failed.id)).not.toBeNull();
    // A day's backlog later, the delivery still waiting is still listed and found.
    expect((await own.list({ hookId: waits })).deliveries.map((d) => d.id)).toEqual([`${waits}.e3`]);
    expect((await own.list({ limit: 500 })).deliveries.some((d) => d.id === `${waits}.e3`)).toBe(true);
    expect((await own.get(`${waits}.e3`))?.status).toBe("pending");
    await own.trimIndexes([hookId, waits], old + 6_000_000);
    expect(await redis.zcard(byHook)).toBe(0);
    expect(await redis.zcard(keyspace(prefix).deliveriesByHook(waits))).toBe(0);
  });

  test("a deleted hook's own index expires after the longest retention, unless a hook of its id is live again", async () => {
    const own = new DeliveryLog(redis, keyspace(prefix), {
      retention: { succeeded: 1_000_000, failed: 5_000_000 },
    });
    const hookId = "hk_gone";
    const index = keyspace(prefix).deliveriesByHook(hookId);
    const pipeline = redis.multi();
    own.recordAccepted(pipeline, [record(1, hookId, 50_000_000)]);
    await pipeline.exec();
    await own.trimIndexes([hookId], 52_000_000);
    expect(await redis.hexists(keyspace(prefix).deliveriesTrimmed, index)).toBe(1);
    await own.forgetHook(hookId);
    expect(await redis.pttl(index)).toBeGreaterThan(5_000_000);
    expect(await redis.pttl(index)).toBeLessThanOrEqual(5_000_000 + 24 * 3600e3);
    expect(await redis.hexists(keyspace(prefix).deliveriesTrimmed, index)).toBe(0);
    // Made again under the same id: the next trim, which reads the live hooks' indexes, keeps it.
    await own.trimIndexes([hookId], 52_000_000);
    expect(await redis.pttl(index)).toBe(-1);
  });

  test("a listing racing a first attempt's failure lists the record once, from its bucket or its own key", async () => {
    const hookId = "hk_race";
    const base = 30_000_000;
    const writer = new DeliveryLog(redis, keyspace(prefix));
    const accepted = redis.multi();
    writer.recordAccepted(
      accepted,
      [1, 2, 3].map((i) => record(i, hookId, base + i)),
    );
    await accepted.exec();
    // The reader's connection reads the index window; before it opens the bucket, e2's first
    // attempt fails and its record leaves the bucket for a key of its own.
    const reader = redis.duplicate();
    const window = reader.zrevrangebyscore.bind(reader);
    let raced = false;
    Object.assign(reader, {
      zrevrangebyscore: async (...args: Parameters<typeof window>) => {
        const read = await window(...args);
        if (!raced) {
          raced = true;
          const promoted = redis.multi();
          writer.recordUpdates(promoted, [
            {
              record: {
                ...record(2, hookId, base + 2),
                updatedAt: base + 500,
                nextAttemptAt: base + 60_000,
                attempts: [{ attempt: 1, at: base + 10, durationMs: 5, statusCode: 503, outcome: "retry" }],
              },
            },
          ]);
          await promoted.exec();
        }
        return read;
      },
    });
    try {
      const page = await new DeliveryLog(reader, keyspace(prefix)).list({ hookId });
      expect(raced).toBe(true);
      expect(page.deliveries.map((d) => d.entryId)).toEqual(["e3", "e2", "e1"]);
      expect(page.deliveries[1]?.status).toBe("pending");
      expect(page.deliveries[1]?.attempts).toHaveLength(1);
    } finally {
      reader.disconnect();
    }
  });

  test("an entry accepted again once its claim lapsed replaces the delivery's earlier whole record", async () => {
    const hookId = "hk_again";
    const failed: DeliveryRecord = {
      ...record(1, hookId, 40_000_000),
      status: "failed",
      reason: "HTTP 400",
      attempts: [{ attempt: 1, at: 40_000_010, durationMs: 3, statusCode: 400, outcome: "give_up" }],
    };
    const first = redis.multi();
    log.recordUpdates(first, [{ record: failed, previous: "pending" }]);
    await first.exec();
    const again = redis.multi();
    log.recordAccepted(again, [record(1, hookId, 41_000_000)]);
    await again.exec();
    await claim(["e1"], 41_000_000);
    expect((await log.get(`${hookId}.e1`))?.acceptedAt).toBe(41_000_000);
    expect((await log.list({ hookId })).deliveries.map((d) => [d.acceptedAt, d.status])).toEqual([
      [41_000_000, "pending"],
    ]);
    expect(
      (await log.list({ status: "failed", limit: 500 })).deliveries.some((d) => d.hookId === hookId),
    ).toBe(false);
  });
});

describe("records that would outlive their entry's claim", () => {
  const DAY = 24 * 3600e3;
  const own = new DeliveryLog(redis, keyspace(prefix), {
    retention: { succeeded: DAY, failed: 14 * DAY },
    claimWindowMs: 7 * DAY,
  });
  const acceptedAt = 50_000_000;
  const succeededAfter = (i: number, waitedMs: number): DeliveryRecord => ({
    ...record(i, "hk_late", acceptedAt),
    status: "succeeded",
    updatedAt: acceptedAt + waitedMs,
    attempts: [
      { attempt: 1, at: acceptedAt + waitedMs - 5, durationMs: 4, statusCode: 200, outcome: "done" },
    ],
  });

  test("a failed delivery replayed with no attempts is kept whole, and found by id with no claim", async () => {
    const failed: DeliveryRecord = {
      ...record(71, "hk_late", acceptedAt),
      status: "failed",
      reason: "render failed: no such variable",
      payload: { id: "hk_late.e71", entryId: "e71", acceptedAt, attemptsMade: 0, templateKey: "default" },
    };
    const first = redis.multi();
    own.recordUpdates(first, [{ record: failed, previous: "pending" }]);
    await first.exec();
    // Replayed 8 days on (the claim lasts 7): pending again, nothing attempted, nothing to say.
    const replayed: DeliveryRecord = {
      ...record(71, "hk_late", acceptedAt),
      updatedAt: acceptedAt + 8 * DAY,
    };
    const again = redis.multi();
    own.recordUpdates(again, [{ record: replayed, previous: "failed" }]);
    await again.exec();
    expect(await redis.exists(keyspace(prefix).entrySeen("e71"))).toBe(0);
    expect(await own.get("hk_late.e71")).toEqual(replayed);
    expect((await own.list({ hookId: "hk_late" })).deliveries.map((d) => d.id)).toEqual(["hk_late.e71"]);
  });

  test("a first attempt's success kept compact while the claim outlives it, whole past that", async () => {
    const soon = succeededAfter(72, 5 * DAY);
    const late = succeededAfter(73, 6.5 * DAY);
    const pipeline = redis.multi();
    own.recordUpdates(pipeline, [{ record: soon }, { record: late }]);
    await pipeline.exec();
    const bucket = keyspace(prefix).deliveryBucket("hk_late", Math.floor(acceptedAt / 100));
    expect(await redis.hexists(bucket, "e72")).toBe(1);
    expect(await redis.exists(keyspace(prefix).delivery("hk_late.e72"))).toBe(0);
    expect(await redis.hexists(bucket, "e73")).toBe(0);
    expect(await own.get("hk_late.e73")).toEqual(late);
  });

  test("a window shorter than the succeeded retention keeps successes compact while their claim lasts", async () => {
    const short = new DeliveryLog(redis, keyspace(prefix), {
      retention: { succeeded: DAY, failed: 14 * DAY },
      claimWindowMs: 3600e3,
    });
    const pipeline = redis.multi();
    short.recordUpdates(pipeline, [
      { record: succeededAfter(74, 600e3) },
      { record: succeededAfter(75, 7200e3) },
    ]);
    await pipeline.exec();
    const bucket = keyspace(prefix).deliveryBucket("hk_late", Math.floor(acceptedAt / 100));
    expect(await redis.hexists(bucket, "e74")).toBe(1);
    expect(await redis.hexists(bucket, "e75")).toBe(0);
    expect(await short.get("hk_late.e75")).toEqual(succeededAfter(75, 7200e3));
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
    const pending: DeliveryRecord = { ...succeeded, status: "pending", attempts: [], nextAttemptAt: 1 };
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
    const kept = { ...succeeded, id: "hk_z.ez1", hookId: "hk_z", entryId: "ez1", attempts };
    log.recordUpdates(pipeline, [{ record: kept }]);
    await pipeline.exec();
    await claim(["ez1"], succeeded.acceptedAt);
    const bucket = keyspace(prefix).deliveryBucket("hk_z", Math.floor(succeeded.acceptedAt / 100));
    expect(await redis.hget(bucket, "ez1")).toMatch(/^~1\|/);
    expect(await log.get("hk_z.ez1")).toEqual(kept);
    expect((await log.getMany(["hk_z.ez1", "hk_z.absent"])).get("hk_z.ez1")?.attempts).toEqual(attempts);
  });

  test("a delivery accepted and not yet attempted is kept compact too", () => {
    const pending: DeliveryRecord = {
      ...succeeded,
      status: "pending",
      attempts: [],
      updatedAt: succeeded.acceptedAt,
    };
    expect(encodeRecord(pending)).toMatch(/^~0\|/);
    expect(decodeRecord(pending.id, encodeRecord(pending))).toEqual(pending);
  });
});
