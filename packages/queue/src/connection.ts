import { connect } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { QueueError } from "./errors";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * How a process uses Redis decides how its connection behaves when Redis goes away:
 * - `worker`: BullMQ's blocking connections must wait and retry for ever (`maxRetriesPerRequest: null`).
 * - `api`: a request must fail fast so that ingest can answer 503, never hang. Routes check the
 *   connection's status before touching Redis (503 at once while it is down); a command caught
 *   in a drop is retried once and times out after 2 s. The offline queue stays on so that
 *   BullMQ's start-up commands wait for the first connection instead of failing for good.
 */
export type ConnectionRole = "worker" | "api";

export function connectRedis(url: string, role: ConnectionRole, name = "hookwire"): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new QueueError("QUEUE_ERR_BAD_CONFIG", "REDIS_URL is not a URL (expected redis://host:port/db)", {
      cause,
    });
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new QueueError(
      "QUEUE_ERR_BAD_CONFIG",
      `REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`,
    );
  }
  const common: RedisOptions = {
    connectionName: name,
    // Reconnect for ever, backing off to 2 s: the service recovers by itself when Redis is back.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
  const options: RedisOptions =
    role === "worker"
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          ...common,
          maxRetriesPerRequest: 1,
          connectTimeout: 1_000,
          commandTimeout: 2_000,
        };
  return new Redis(url, options);
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new QueueError("QUEUE_ERR_UNAVAILABLE", `Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}

/** A Redis URL with any password hidden, for log lines. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid REDIS_URL)";
  }
}

/**
 * Whether a Redis answers PING at host:port within `timeoutMs`: a bare socket, so that probing a
 * port where nothing listens costs no reconnecting client (`hookwire start`, the bench).
 */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** Deletes every key under `prefix` (hookwire's and BullMQ's alike); answers how many. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let dropped = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) dropped += await redis.unlink(...keys);
  } while (cursor !== "0");
  return dropped;
}
