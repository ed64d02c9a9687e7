import { randomBytes } from "node:crypto";
import { connectRedis, DEFAULT_REDIS_URL, dropPrefix } from "@hookwire/queue";

export { dropPrefix };

import type { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** A key prefix no other test file uses, so files run in parallel against one Redis. */
export function uniquePrefix(label: string): string {
  return `hwtest-${label}-${randomBytes(4).toString("hex")}`;
}

export function testRedis(): Redis {
  return connectRedis(REDIS_URL, "worker", "hookwire-test");
}
