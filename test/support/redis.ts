import { randomBytes } from "node:crypto";
import { connectRedis, DEFAULT_REDIS_URL } from "@hookwire/queue";
import type { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** A key prefix no other test file uses, so files run in parallel against one Redis. */
export function uniquePrefix(label: string): string {
  return `hwtest-${label}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

export function testRedis(): Redis {
  return connectRedis(REDIS_URL, "worker", "hookwire-test");
}
