import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type OwnRedis, ownRedis } from "../../../test/support/redis-server";
import { LuaScript } from "./lua-script";

// Counted on a redis-server of this file's own: its command statistics are this file's alone.

const INCR = `return redis.call("INCRBY", KEYS[1], ARGV[1])`;
let server: OwnRedis;
let redis: Redis;

beforeAll(async () => {
  server = await ownRedis();
  await server.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** How many EVAL and EVALSHA Redis ran while `act` did. */
async function scriptCalls(act: () => Promise<void>): Promise<{ eval: number; evalsha: number }> {
  await redis.config("RESETSTAT");
  await act();
  const stats = await redis.info("commandstats");
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { eval: calls("eval"), evalsha: calls("evalsha") };
}

describe("LuaScript", () => {
  test("defined on a connection, it is sent whole once and by its SHA after, in pipelines too", async () => {
    const script = new LuaScript("hookwireTestIncr", 1, INCR);
    const connection = redis.duplicate();
    script.define(connection);
    const answers: unknown[] = [];
    const calls = await scriptCalls(async () => {
      answers.push(await script.run(connection, "counter-a", 2));
      const pipeline = connection.pipeline();
      script.add(pipeline, "counter-a", 3);
      answers.push((await pipeline.exec())?.[0]?.[1]);
      answers.push(await script.run(connection, "counter-a", 5));
    });
    connection.disconnect();
    expect(answers).toEqual([2, 5, 10]);
    expect(calls).toEqual({ eval: 1, evalsha: 2 });
  });

  test("on a connection it was not defined on, it is sent whole each time, with the same effect", async () => {
    const script = new LuaScript("hookwireTestIncrUndefined", 1, INCR);
    const answers: unknown[] = [];
    const calls = await scriptCalls(async () => {
      answers.push(await script.run(redis, "counter-b", 2));
      const pipeline = redis.pipeline();
      script.add(pipeline, "counter-b", 3);
      answers.push((await pipeline.exec())?.[0]?.[1]);
    });
    expect(answers).toEqual([2, 5]);
    expect(calls).toEqual({ eval: 2, evalsha: 0 });
  });

  test("a script over any number of keys takes their count first, defined or not", async () => {
    const sum = `local n = 0
for _, key in ipairs(KEYS) do n = n + redis.call("INCRBY", key, ARGV[1]) end
return n`;
    const script = new LuaScript("hookwireTestIncrEach", undefined, sum);
    const connection = redis.duplicate();
    script.define(connection);
    const answers: unknown[] = [];
    const calls = await scriptCalls(async () => {
      answers.push(await script.run(connection, 2, "each-a", "each-b", 1));
      answers.push(await script.run(connection, 3, "each-a", "each-b", "each-c", 1));
      answers.push(await script.run(redis, 1, "each-c", 10));
    });
    connection.disconnect();
    expect(answers).toEqual([2, 2 + 2 + 1, 11]);
    expect(calls).toEqual({ eval: 2, evalsha: 1 });
  });
});
