import { connect } from "node:net";
import calculateSlot from "cluster-key-slot";
import { Cluster, type ClusterOptions, Redis, type RedisOptions, ReplyError } from "ioredis";
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

/** A Sentinel group: the sentinels to ask, and the name of the master they watch. */
export interface SentinelGroup {
  /** The master's name in the sentinels' `sentinel monitor <name> ...` (REDIS_SENTINEL_NAME). */
  name: string;
  nodes: readonly { host: string; port: number }[];
  /** The sentinels' own `requirepass`, when they have one (REDIS_SENTINEL_PASSWORD). */
  password?: string | undefined;
}

/** A Redis Cluster: some of its nodes, from which the client learns the rest (REDIS_CLUSTER_NODES). */
export interface ClusterNodes {
  nodes: readonly { host: string; port: number }[];
}

/**
 * Which Redis hookwire uses: one server at `url`, the master a Sentinel group names, or a Redis
 * Cluster. With sentinels or a cluster, `url` still gives the user, password and scheme
 * (`rediss:` for TLS) (and, with sentinels, the database); its host and port are not used.
 */
export interface RedisTarget {
  url: string;
  sentinels?: SentinelGroup | undefined;
  cluster?: ClusterNodes | undefined;
}

/**
 * A connection for `role`. On a cluster it is an ioredis Cluster, typed as the Redis it stands
 * for: it answers every command hookwire sends by key, routed to the key's master (the keys of a
 * partition share one hash tag, so scripts and MULTIs stay in one slot: see partitions.ts).
 * The few commands without a key ask each master themselves (`mastersOf`).
 */
export function connectRedis(target: RedisTarget | string, role: ConnectionRole, name = "hookwire"): Redis {
  const { url, sentinels, cluster } =
    typeof target === "string" ? { url: target, sentinels: undefined, cluster: undefined } : target;
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
    ...(sentinels === undefined ? {} : sentinelOptions(sentinels, parsed.protocol === "rediss:")),
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
  if (cluster !== undefined) return connectCluster(cluster, parsed, options);
  return new Redis(url, options);
}

/**
 * A Cluster whose nodes are each connected as `options` says (role, name, credentials from the
 * URL); the cluster's own reconnecting backs off as a single connection's does, and a command
 * caught in a resharding or a failover (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) is redirected or
 * retried by ioredis within the role's own retry limits.
 */
function connectCluster(cluster: ClusterNodes, parsed: URL, options: RedisOptions): Redis {
  const { retryStrategy, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
    enableReadyCheck: true,
    redisOptions: {
      ...nodeOptions,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    },
  };
  const client = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
  return client as unknown as Redis;
}

/** Whether a connection is a Redis Cluster's (see connectRedis). */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}

/**
 * The connection to the server that holds `key`: on a cluster, the one this client uses for the
 * master of the key's slot (the connection that key's commands are sent on, so a WAIT on it
 * counts their writes), or undefined while the slot map is not known; else the connection itself.
 */
export function serverOfKey(redis: Redis, key: string): Redis | undefined {
  if (!isCluster(redis)) return redis;
  const cluster = redis as unknown as Cluster;
  const master = cluster.slots[calculateSlot(key)]?.[0];
  if (master === undefined) return undefined;
  return cluster.nodes("master").find((node) => `${node.options.host}:${node.options.port}` === master);
}

/**
 * The servers to ask a command that names no key (CONFIG, INFO, SCAN): every master of a
 * cluster, or the connection itself.
 */
export function mastersOf(redis: Redis): Redis[] {
  if (!isCluster(redis)) return [redis];
  const masters = (redis as unknown as Cluster).nodes("master");
  // Before the slot map is known (not ready yet), the cluster's own connection asks any node.
  return masters.length > 0 ? masters : [redis];
}

/**
 * How a connection follows its Sentinel group's master through a failover. The options are on the
 * connection itself, so every `duplicate()` of it (BullMQ's blocking clients, the worker's writes,
 * ingest's commits) follows the master the same way.
 * - Every connect, and every reconnect after a drop, asks the sentinels which server is the master
 *   (`SENTINEL get-master-addr-by-name`), and the ready check (INFO, on by default) refuses a
 *   server that answers with another role, so a connection never settles on a replica.
 * - A master that dies closes its connections, and each reconnect asks again. ioredis'
 *   `failoverDetector` (drop the connection on the sentinels' `+switch-master`, for a master that
 *   hangs without closing them) stays off: it fires for a connection that is already
 *   reconnecting, and when that catches it resolving the new master, ioredis ends the connection
 *   for good (status "end": the worker stopped for ever in 1 run of 6 of test/sentinel.test.ts).
 *   A master that hangs is demoted by the sentinels, which close its clients once it answers
 *   again; until then ingest's commands time out (503) and the workers wait.
 * - Sentinel closes the clients of a master it demotes, but a write sent just before that is
 *   answered READONLY by the demoted server: reconnect (through the sentinels) and fail that one
 *   command (1), never resend it (2). A resend would replay single commands of a MULTI outside
 *   their transaction; the caller's own retry (ingest's 503, BullMQ's loops, the outbox's
 *   sweepers) does it whole. `enableAutoPipelining` stays off for the same reason: it would fail
 *   unrelated callers' commands together on one such error.
 */
function sentinelOptions(group: SentinelGroup, tls: boolean): RedisOptions {
  return {
    name: group.name,
    sentinels: group.nodes.map(({ host, port }) => ({ host, port })),
    ...(group.password === undefined ? {} : { sentinelPassword: group.password }),
    // All sentinels away: ask again for ever, backing off to 2 s, like the master's retryStrategy.
    sentinelRetryStrategy: (times) => Math.min(times * 100, 2_000),
    // A sentinel that accepts the connection but never answers (frozen) is skipped for the next.
    sentinelCommandTimeout: 1_000,
    reconnectOnError: (error) => (redisErrorCode(error) === "READONLY" ? 1 : false),
    // rediss:// is TLS to the master; the sentinels are asked in plain text.
    enableTLSForSentinelMode: tls,
  };
}

/**
 * The error code of a Redis error reply (`READONLY`, `LOADING`, `NOSCRIPT`, ...): by the protocol,
 * the reply's first word. Undefined for anything that is not a reply from Redis.
 */
export function redisErrorCode(error: unknown): string | undefined {
  if (!(error instanceof ReplyError)) return undefined;
  const code = (error as Error).message.split(" ", 1)[0];
  return code !== undefined && /^[A-Z][A-Z_]*$/.test(code) ? code : undefined;
}

/**
 * Redis replies that go away by themselves: a failover under way (READONLY from a demoted master,
 * whose connection is being moved to the new one; MASTERDOWN), a dataset loading, a script
 * running long (BUSY), a cluster reconfiguring (TRYAGAIN, CLUSTERDOWN).
 */
const TRANSIENT_REPLY_CODES: ReadonlySet<string> = new Set([
  "READONLY",
  "MASTERDOWN",
  "LOADING",
  "BUSY",
  "TRYAGAIN",
  "CLUSTERDOWN",
]);

/**
 * Whether a Redis error reply means "not now" (trying again later may work) rather than a mistake
 * that trying again repeats. A MULTI whose commands were refused as they were queued (READONLY
 * from a demoted master) is rejected with EXECABORT, the refusals kept in `previousErrors`: it is
 * judged by them. Undefined for anything that is not a reply (a connection failure, a timeout),
 * which callers judge themselves.
 */
export function transientRedisReply(error: unknown): boolean | undefined {
  const code = redisErrorCode(error);
  if (code === undefined) return error instanceof ReplyError ? false : undefined;
  if (code === "EXECABORT") {
    const previous = (error as { previousErrors?: unknown[] }).previousErrors ?? [];
    return previous.some((cause) => TRANSIENT_REPLY_CODES.has(redisErrorCode(cause) ?? ""));
  }
  return TRANSIENT_REPLY_CODES.has(code);
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

/** Where a connection goes, for log lines: the URL with its password hidden, the sentinels. */
export function describeRedis(target: RedisTarget | string): string {
  if (typeof target === "string") return describeRedisUrl(target);
  if (target.cluster !== undefined)
    return `cluster of ${target.cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(",")}`;
  if (target.sentinels === undefined) return describeRedisUrl(target.url);
  const nodes = target.sentinels.nodes.map(({ host, port }) => `${host}:${port}`).join(",");
  // The URL's host is not used with sentinels: only its scheme, database and credentials count.
  let details = "";
  try {
    const parsed = new URL(target.url);
    const db = parsed.pathname.replace(/^\//, "") || "0";
    details = ` (${parsed.protocol === "rediss:" ? "TLS, " : ""}db ${db}${parsed.password ? ", password ***" : ""})`;
  } catch {
    details = " (invalid REDIS_URL)";
  }
  return `master ${target.sentinels.name} via sentinels ${nodes}${details}`;
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
  let dropped = 0;
  for (const node of mastersOf(redis)) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      // One by one on a cluster's node: the keys of one SCAN page may lie in several slots.
      if (keys.length > 0)
        dropped += isCluster(redis)
          ? (await Promise.all(keys.map((key) => node.unlink(key)))).reduce((a, b) => a + b, 0)
          : await node.unlink(...keys);
    } while (cursor !== "0");
  }
  return dropped;
}
