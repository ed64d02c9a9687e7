import { keyspace } from "@hookwire/queue";
import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { HookLimits, WANT_MS } from "./hook-limits";

const redis = testRedis();
const prefix = uniquePrefix("limits");
const keys = keyspace(prefix);

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function take(limits: HookLimits, hookId: string, size: number, concurrency = 10) {
  const request = { concurrency, size };
  const pipeline = redis.pipeline();
  limits.addTake(pipeline, hookId, request, Date.now());
  const [[error, raw] = [null, null]] = (await pipeline.exec()) ?? [];
  if (error) throw error;
  return limits.answer(hookId, request, raw);
}

describe("HookLimits", () => {
  test("two workers share one cap: the second gets only what the first left", async () => {
    const a = new HookLimits(keys, "worker-a", 30_000);
    const b = new HookLimits(keys, "worker-b", 30_000);
    expect((await take(a, "hk_cap", 7)).accepted).toBe(true);
    expect(a.slots("hk_cap")).toBe(7);
    expect((await take(b, "hk_cap", 25)).accepted).toBe(true);
    expect(b.slots("hk_cap")).toBe(3);
    expect((await take(b, "hk_cap", 25)).accepted).toBe(true); // shares its own 3
    const c = new HookLimits(keys, "worker-c", 30_000);
    expect((await take(c, "hk_cap", 1)).accepted).toBe(false);
  });

  test("a worker asking again before its own release landed gets its slots back at once", async () => {
    const limits = new HookLimits(keys, "worker-r", 30_000);
    expect((await take(limits, "hk_again", 25)).accepted).toBe(true);
    expect(limits.slots("hk_again")).toBe(10);
    // The batch is done: the release is booked, its MULTI not sent yet.
    const release = limits.leaving("hk_again", 25);
    expect(release).toEqual({ slots: 10, held: 25 });
    expect((await take(limits, "hk_again", 25)).accepted).toBe(true);
    expect(limits.slots("hk_again")).toBe(10);
    const tx = redis.multi();
    limits.addRelease(tx, "hk_again", release);
    await tx.exec();
    const booked = await redis.hget(keys.hookWorkers("hk_again"), "worker-r:slots");
    expect(Number(booked)).toBe(10);
  });

  test("many hand-overs of one hook sent at once take its cap once, and each is accepted on it", async () => {
    const limits = new HookLimits(keys, "worker-m", 30_000);
    const request = { concurrency: 10, size: 25 };
    const pipeline = redis.pipeline();
    for (let i = 0; i < 8; i++) limits.addTake(pipeline, "hk_many", request, Date.now());
    const answers = ((await pipeline.exec()) ?? []).map(([, raw]) => limits.answer("hk_many", request, raw));
    expect(answers.every((a) => a.accepted)).toBe(true);
    expect(limits.slots("hk_many")).toBe(10);
    const booked = await redis.hget(keys.hookWorkers("hk_many"), "worker-m:slots");
    expect(Number(booked)).toBe(10);
  });

  test("a take that leaned on slots this worker gave back before reading its answer is not accepted, and what it kept goes back", async () => {
    const limits = new HookLimits(keys, "worker-g", 30_000);
    const request = { concurrency: 10, size: 25 };
    expect((await take(limits, "hk_gone", 25)).accepted).toBe(true);
    // A second batch's take is sent while the worker holds the slots...
    const pipeline = redis.pipeline();
    limits.addTake(pipeline, "hk_gone", request, Date.now());
    // ...and before its answer is read, the first batch ends and its slots are given back.
    const release = limits.leaving("hk_gone", 25);
    expect(release.slots).toBe(10);
    const [[, raw] = [null, null]] = (await pipeline.exec()) ?? [];
    const answer = limits.answer("hk_gone", request, raw);
    expect(answer).toMatchObject({ accepted: false, kept: true });
    expect(limits.slots("hk_gone")).toBe(0);
    const tx = redis.multi();
    limits.addRelease(tx, "hk_gone", release);
    limits.addRelease(tx, "hk_gone", limits.leaving("hk_gone", 25));
    await tx.exec();
    expect(await redis.hgetall(keys.hookWorkers("hk_gone"))).toEqual({});
  });

  test("a take refused only for slots given back on its way is accepted when taken again, and Redis books it once", async () => {
    const limits = new HookLimits(keys, "worker-t", 30_000);
    const request = { concurrency: 10, size: 25 };
    expect((await take(limits, "hk_retake", 25)).accepted).toBe(true);
    const pipeline = redis.pipeline();
    limits.addTake(pipeline, "hk_retake", request, Date.now());
    // The first batch ends, and its release is sent, before the second take's answer is read.
    const tx = redis.multi();
    limits.addRelease(tx, "hk_retake", limits.leaving("hk_retake", 25));
    const [[, raw] = [null, null]] = (await pipeline.exec()) ?? [];
    await tx.exec();
    expect(limits.answer("hk_retake", request, raw)).toMatchObject({ accepted: false, kept: true });

    expect(await limits.retake(redis, "hk_retake", request, Date.now())).toMatchObject({
      accepted: true,
      sendable: 25,
    });
    expect(limits.slots("hk_retake")).toBe(10);
    expect(await redis.hgetall(keys.hookWorkers("hk_retake"))).toEqual({
      "worker-t:slots": "10",
      "worker-t:held": "25",
    });
  });

  test("a worker refused for want of slots gets a share: the holder gives back what it has beyond its share and does not use, and takes no more", async () => {
    const a = new HookLimits(keys, "worker-sa", 30_000);
    const b = new HookLimits(keys, "worker-sb", 30_000);
    const hookId = "hk_share";
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect(a.slots(hookId)).toBe(10);
    // b is refused, and says that it wants slots.
    expect((await take(b, hookId, 100)).accepted).toBe(false);
    const wants = await redis.hget(keys.hookWorkers(hookId), "worker-sb:wants");
    expect(Number(wants)).toBeGreaterThan(Date.now());
    // a's next hand-over learns it: its gate narrows to its share, it takes nothing more...
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect(a.slots(hookId)).toBe(10);
    expect(a.width(hookId)).toBe(5);
    // ...and as its first batch ends with 7 of the hook's requests in flight, it gives back 3
    // (those are unused); with 2 in flight at the next, the other 2 beyond its share.
    const first = a.leaving(hookId, 50, 7);
    expect(first).toEqual({ slots: 3, held: 50 });
    const tx = redis.multi();
    a.addRelease(tx, hookId, first);
    await tx.exec();
    expect(a.slots(hookId)).toBe(7);
    expect((await take(b, hookId, 100)).accepted).toBe(true);
    expect(b.slots(hookId)).toBe(3);
    expect(await redis.hget(keys.hookWorkers(hookId), "worker-sb:wants")).toBeNull();
    const second = a.leaving(hookId, 50, 2);
    expect(second).toEqual({ slots: 2, held: 50 });
    const tx2 = redis.multi();
    a.addRelease(tx2, hookId, second);
    await tx2.exec();
    expect(a.slots(hookId)).toBe(5);
    // The cap holds in Redis: 5 and 3 of 10, and b gets the 2 given back at its next take.
    expect((await take(b, hookId, 100)).accepted).toBe(true);
    expect(b.slots(hookId)).toBe(5);
    const booked = await redis.hgetall(keys.hookWorkers(hookId));
    expect(Number(booked["worker-sa:slots"]) + Number(booked["worker-sb:slots"])).toBe(10);
  });

  test("a worker nobody else wants slots from keeps them all while it holds batches of the hook", async () => {
    const a = new HookLimits(keys, "worker-ka", 30_000);
    const hookId = "hk_keep";
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect(a.leaving(hookId, 100, 0)).toEqual({ slots: 0, held: 100 });
    expect(a.width(hookId)).toBe(10);
  });

  test("a want that lapsed is dropped by the next take, which then grants the whole cap", async () => {
    const a = new HookLimits(keys, "worker-la", 30_000);
    const hookId = "hk_lapsed";
    await redis.hset(keys.hookWorkers(hookId), "worker-gone:wants", Date.now() - 1);
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect(a.slots(hookId)).toBe(10);
    expect(a.width(hookId)).toBe(10);
    expect(await redis.hget(keys.hookWorkers(hookId), "worker-gone:wants")).toBeNull();
    // A live one is not counted as deliveries held elsewhere.
    await redis.hset(keys.hookWorkers(hookId), "worker-live:wants", Date.now() + WANT_MS);
    expect((await take(a, hookId, 100)).accepted).toBe(true);
    expect(a.heldElsewhere(hookId)).toBe(0);
    expect(a.width(hookId)).toBe(5);
  });
});
