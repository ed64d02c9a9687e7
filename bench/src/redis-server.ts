import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { redisAnswers as answers, connectRedis, DEFAULT_REDIS_URL, dropPrefix } from "@hookwire/queue";

export { dropPrefix };

import type { Redis } from "ioredis";

const LOCAL = { host: "127.0.0.1", port: 6379 };

export interface RedisTarget {
  url: string;
  /** Set when the harness started redis-server itself; stopped at the end. */
  started?: ChildProcess;
}

/**
 * The Redis to measure against: REDIS_URL, else the one on 127.0.0.1:6379, else a redis-server
 * started as `hookwire start` starts it (append-only file on, data in .data/redis).
 */
export async function ensureRedis(say: (line: string) => void): Promise<RedisTarget> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv };
  if (await answers(LOCAL.host, LOCAL.port)) return { url: DEFAULT_REDIS_URL };
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error !== undefined) {
    throw new Error(
      "no Redis answers on 127.0.0.1:6379 and redis-server is not installed: install it or set REDIS_URL",
    );
  }
  const dir = join(PROJECT_ROOT, ".data", "redis");
  await mkdir(dir, { recursive: true });
  const child = spawn(
    "redis-server",
    ["--bind", LOCAL.host, "--port", String(LOCAL.port), "--dir", dir, "--appendonly", "yes", "--save", ""],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  for (const deadline = Date.now() + 10e3; Date.now() < deadline; ) {
    if (await answers(LOCAL.host, LOCAL.port)) {
      say(`started redis-server on ${LOCAL.host}:${LOCAL.port} (stopped at the end)`);
      return { url: DEFAULT_REDIS_URL, started: child };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGTERM");
  throw new Error("redis-server did not start within 10 s");
}

export async function stopRedis(target: RedisTarget): Promise<void> {
  const child = target.started;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10e3);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The pid of the Redis server when it runs on this machine (its CPU is then counted). */
export async function localRedisPid(redisUrl: string): Promise<number | undefined> {
  const redis = connectRedis(redisUrl, "api", "hookwire-bench-info");
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
    if (!Number.isInteger(pid)) return undefined;
    return readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("redis") ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
