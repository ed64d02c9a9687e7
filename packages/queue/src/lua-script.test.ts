import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { testRedis } from "../../../test/support/redis";
import { LuaScript } from "./lua-script";

const INCR = `return redis.call("INCRBY", KEYS[1], ARGV[1])`;
const redis = testRedis();
afterAll(() => redis.disconnect());

/** The scripts Redis was sent on `key` (EVAL or EVALSHA), as MONITOR saw them, once `count` were. */
async function commandsOn(key: string, count: number, act: () => Promise<void>): Promise<string[]> {
  const monitor = await redis.duplicate().monitor();
  const seen: string[] = [];
  try {
    const done = new Promise<void>((resolve) => {
      monitor.on("monitor", (_time: string, args: string[]) => {
        const name = String(args[0]).toLowerCase();
        if (!args.includes(key) || !name.startsWith("eval")) return;
        seen.push(name);
        if (seen.length === count) resolve();
      });
    });
    await act();
    await done;
    return seen;
  } finally {
    monitor.disconnect();
  }
}

describe("LuaScript", () => {
  test("defined on a connection, it is sent whole once and by its SHA after, in pipelines too", async () => {
    const key = `lua-test-${randomBytes(4).toString("hex")}`;
    const script = new LuaScript(`hookwireTestIncr${randomBytes(3).toString("hex")}`, 1, INCR);
    const connection = redis.duplicate();
    script.define(connection);
    const answers: unknown[] = [];
    const commands = await commandsOn(key, 3, async () => {
      answers.push(await script.run(connection, key, 2));
      const pipeline = connection.pipeline();
      script.add(pipeline, key, 3);
      answers.push((await pipeline.exec())?.[0]?.[1]);
      answers.push(await script.run(connection, key, 5));
    });
    connection.disconnect();
    await redis.del(key);
    expect(answers).toEqual([2, 5, 10]);
    expect(commands).toEqual(["eval", "evalsha", "evalsha"]);
  });

  test("on a connection it was not defined on, it is sent whole each time, with the same effect", async () => {
    const key = `lua-test-${randomBytes(4).toString("hex")}`;
    const script = new LuaScript(`hookwireTestIncr${randomBytes(3).toString("hex")}`, 1, INCR);
    const answers: unknown[] = [];
    const commands = await commandsOn(key, 2, async () => {
      answers.push(await script.run(redis, key, 2));
      const pipeline = redis.pipeline();
      script.add(pipeline, key, 3);
      answers.push((await pipeline.exec())?.[0]?.[1]);
    });
    await redis.del(key);
    expect(answers).toEqual([2, 5]);
    expect(commands).toEqual(["eval", "eval"]);
  });
});
