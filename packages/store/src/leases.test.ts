import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { isLeaseToken, takeLeases } from "./leases";

const redis = testRedis();
const prefix = uniquePrefix("leases");
const key = (name: string) => `${prefix}:${name}`;

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe("leases", () => {
  test("a free key is taken, a leased one is busy, a kept one reports kept", async () => {
    await redis.set(key("kept"), "1");
    const first = await takeLeases(redis, [key("free"), key("kept")], 5_000);
    expect(first.states).toEqual(["taken", "kept"]);
    const second = await takeLeases(redis, [key("free")], 5_000);
    expect(second.states).toEqual(["leased"]);
    first.lease.end();
    second.lease.end();
  });

  test("a key named twice in one request is taken once and reported kept the second time", async () => {
    const { states, lease } = await takeLeases(redis, [key("twice"), key("twice")], 5_000);
    expect(states).toEqual(["taken", "kept"]);
    await lease.release();
    expect(await redis.exists(key("twice"))).toBe(0);
  });

  test("a lease nobody renews lapses within its time, and the key can be taken again", async () => {
    const dead = await takeLeases(redis, [key("crashed")], 300);
    dead.lease.end(); // what a killed process does: nothing more
    expect(Number(await redis.pttl(key("crashed")))).toBeLessThanOrEqual(300);
    await redis.pexpire(key("crashed"), 1); // the lapse, without waiting for it
    await new Promise((resolve) => setImmediate(resolve));
    await expect.poll(() => redis.exists(key("crashed"))).toBe(0);
    const retry = await takeLeases(redis, [key("crashed")], 300);
    expect(retry.states).toEqual(["taken"]);
    retry.lease.end();
  });

  test("a running lease is renewed, so its time to live goes back up", async () => {
    const { lease } = await takeLeases(redis, [key("renewed")], 300);
    // Without renewals the TTL only falls; a reading above the one before is a renewal.
    let last = Number(await redis.pttl(key("renewed")));
    await expect
      .poll(
        async () => {
          const now = Number(await redis.pttl(key("renewed")));
          const renewed = now > last;
          last = now;
          return renewed;
        },
        { interval: 10, timeout: 3_000 },
      )
      .toBe(true);
    lease.end();
  });

  test("keep replaces the lease with the kept value in the caller's MULTI; release then leaves it", async () => {
    const { lease } = await takeLeases(redis, [key("done")], 5_000);
    const tx = redis.multi();
    lease.keep(tx, "1", 60_000);
    await tx.exec();
    await lease.release();
    expect(await redis.get(key("done"))).toBe("1");
  });

  test("release deletes only keys that still hold this lease's token", async () => {
    const { lease } = await takeLeases(redis, [key("stolen")], 5_000);
    await redis.set(key("stolen"), "another request's answer");
    await lease.release();
    expect(await redis.get(key("stolen"))).toBe("another request's answer");
  });

  test("a lease token is told apart from a kept value", async () => {
    const { lease } = await takeLeases(redis, [key("token")], 5_000);
    expect(isLeaseToken((await redis.get(key("token"))) ?? "")).toBe(true);
    expect(isLeaseToken('{"entries":[]}')).toBe(false);
    lease.end();
  });
});
