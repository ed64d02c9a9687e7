import { Partitions, partitionIndexOf } from "@hookwire/queue";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { DeliveryLog, type DeliveryRecord } from "./delivery-log";
import { DeliveryLogs } from "./delivery-logs";
import { encodeClaim } from "./request-trace";

const redis = testRedis();
const prefix = uniquePrefix("delivery-logs");
const partitions = new Partitions(prefix, 3);
const logs = partitions.all.map(
  (partition) => new DeliveryLog(redis, partition.keys, { claims: partitions.base.keys }),
);
const merged = new DeliveryLogs(logs, partitions);

afterAll(async () => {
  for (const { prefix } of partitions.all) await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** The first hook id of `hk_<n>` that falls in each partition. */
const hookIds = [0, 1, 2].map((p) => {
  for (let n = 0; ; n++) if (partitionIndexOf(`hk_${n}`, 3) === p) return `hk_${n}`;
});

function record(
  i: number,
  hookId: string,
  acceptedAt: number,
  status: DeliveryRecord["status"],
): DeliveryRecord {
  return {
    id: `${hookId}.e${i}`,
    hookId,
    entryId: `e${i}`,
    status,
    acceptedAt,
    updatedAt: acceptedAt,
    attempts: [],
  };
}

describe("DeliveryLogs over three partitions", () => {
  // 90 deliveries over the three hooks (one per partition), many sharing a millisecond, a third failed.
  const records = Array.from({ length: 90 }, (_, i) =>
    record(i, hookIds[i % 3] as string, 1_000 + Math.floor(i / 4), i % 3 === 1 ? "failed" : "pending"),
  );

  beforeAll(async () => {
    // The entries' claims, as intake leaves them: in partition 0, with the time each was accepted.
    for (const r of records)
      await redis.set(partitions.base.keys.entrySeen(r.entryId), encodeClaim("req", r.acceptedAt));
    for (const { partition, items } of partitions.group(records, (r) => r.hookId)) {
      const pipeline = redis.pipeline();
      (logs[partition.index] as DeliveryLog).recordAccepted(pipeline, items);
      await pipeline.exec();
    }
  });

  test("each partition's log holds only its own hooks' deliveries", async () => {
    for (const [p, log] of logs.entries()) {
      const page = await log.list({ limit: 500 });
      expect(new Set(page.deliveries.map((d) => d.hookId))).toEqual(new Set([hookIds[p]]));
    }
  });

  test("a listing across hooks pages through every partition's deliveries once, newest first", async () => {
    const seen: DeliveryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await merged.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.deliveries.length).toBeLessThanOrEqual(7);
      seen.push(...page.deliveries);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(90);
    expect(new Set(seen.map((d) => d.id)).size).toBe(90);
    const times = seen.map((d) => d.acceptedAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test("paging one at a time, a partition not yet reached keeps its place in the cursor", async () => {
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const page = await merged.list({ limit: 1, ...(cursor ? { cursor } : {}) });
      for (const d of page.deliveries) seen.add(d.id);
      cursor = page.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(seen.size).toBe(90);
  });

  test("the failed deliveries are listed from every partition's index", async () => {
    const page = await merged.list({ status: "failed", limit: 500 });
    expect(page.deliveries).toHaveLength(30);
    expect(page.deliveries.every((d) => d.hookId === hookIds[1])).toBe(true);
  });

  test("one hook's listing and lookups by id go to its partition", async () => {
    const hook = hookIds[2] as string;
    expect((await merged.list({ hookId: hook, limit: 500 })).deliveries).toHaveLength(30);
    expect(await merged.get(`${hook}.e2`)).toMatchObject({ hookId: hook, entryId: "e2" });
    const many = await merged.getMany([`${hookIds[0]}.e0`, `${hookIds[1]}.e1`, `${hook}.e2`, `${hook}.e404`]);
    expect([...many.keys()].sort()).toEqual([`${hookIds[0]}.e0`, `${hookIds[1]}.e1`, `${hook}.e2`].sort());
  });

  test("a cursor that is not a merged one starts from the newest delivery", async () => {
    const page = await merged.list({ limit: 1, cursor: "bm90LWEtY3Vyc29y" });
    expect(page.deliveries[0]?.acceptedAt).toBe(1_000 + Math.floor(89 / 4));
  });
  test("failed deliveries of several partitions, paged, are each listed once, last failed first", async () => {
    // Failed in another order than accepted: the failed index is by the time of failing.
    const failed = (i: number, hookId: string, acceptedAt: number, updatedAt: number): DeliveryRecord => ({
      ...record(i, hookId, acceptedAt, "failed"),
      updatedAt,
      reason: "HTTP 400",
      attempts: [{ attempt: 1, at: acceptedAt, durationMs: 1, statusCode: 400, outcome: "give_up" }],
    });
    // Hooks of their own in partitions 0 and 2, accepted before the others: no other test sees them.
    const [a, b] = [0, 2].map((p) => {
      for (let n = 1000; ; n++) if (partitionIndexOf(`hk_${n}`, 3) === p) return `hk_${n}`;
    }) as [string, string];
    const late = [failed(900, a, 100, 9_000_000), failed(901, a, 500, 8_900_000)];
    const between = [failed(902, b, 300, 8_950_000)];
    for (const [index, items] of [
      [0, late],
      [2, between],
    ] as const) {
      const pipeline = redis.multi();
      (logs[index] as DeliveryLog).recordUpdates(
        pipeline,
        items.map((r) => ({ record: r, previous: "pending" as const })),
      );
      await pipeline.exec();
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await merged.list({ status: "failed", limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen.slice(0, 3)).toEqual([`${a}.e900`, `${b}.e902`, `${a}.e901`]);
    expect(seen).toHaveLength(33);
    expect(new Set(seen).size).toBe(33);
  });
});
