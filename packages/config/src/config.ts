import {
  type ClusterNodes,
  clusterPrefix,
  DEFAULT_QUEUE_PREFIX,
  DEFAULT_REDIS_URL,
  isValidPrefix,
  MAX_PARTITIONS,
  type RedisTarget,
  type SentinelGroup,
} from "@hookwire/queue";
import { ConfigError } from "./errors";

export type Scope = "ingest" | "read" | "admin";

export interface ApiKey {
  /** The bearer token itself: compared in constant time, never logged. */
  token: string;
  scopes: ReadonlySet<Scope>;
  /** A name for logs and metrics: the key's position, never the token. */
  label: string;
}

export interface HookwireConfig {
  /**
   * REDIS_URL, the master of the Sentinel group REDIS_SENTINELS, or the Redis Cluster of
   * REDIS_CLUSTER_NODES or a redis+cluster:// URL (REDIS_URL then gives only credentials, scheme, db).
   */
  redis: RedisTarget;
  queuePrefix: string;
  /**
   * Hook partitions (HOOKWIRE_QUEUE_PARTITIONS; the queue package's partitions.ts): 1 on a single
   * Redis or a Sentinel group, DEFAULT_CLUSTER_PARTITIONS on a cluster unless told otherwise.
   */
  queuePartitions: number;
  /** AES-256-GCM key for secrets at rest; absent only where nothing reads or writes hooks. */
  secretKey: string | undefined;
  /** Catalog folders: the project's own integrations first, then HOOKWIRE_INTEGRATIONS_DIR. */
  extraIntegrationsDirs: string[];
  logLevel: string;
  ingest: {
    host: string;
    port: number;
    apiKeys: ApiKey[];
    bodyLimitBytes: number;
    /** Queue depth (waiting + delayed) past which ingest answers 503. */
    maxQueueDepth: number;
    /** Requests a minute per API key. */
    rateLimitPerMinute: number;
    /** How long an entry id (or Idempotency-Key) is remembered. */
    idempotencyWindowMs: number;
    /**
     * How long an entry id or Idempotency-Key stays leased to a request that died while working
     * on it (renewed while the request runs): a retry within it is answered 409, after it is
     * processed again.
     */
    claimLeaseMs: number;
    hooksFile: string | undefined;
    /**
     * Where browsers reach ingest (HOOKWIRE_PUBLIC_URL), for the OAuth callback URL; else the
     * request's own scheme and host.
     */
    publicUrl: string | undefined;
    /** Lets the queue view at /admin/queues retry, promote and remove jobs. */
    queueViewWritable: boolean;
    /** Refuse to start on a Redis that says its append-only file is off (acknowledged entries would not survive a restart). */
    requireDurableRedis: boolean;
    /**
     * Replicas that must hold a request's writes (Redis WAIT) before it is answered 202, so that an
     * acknowledged entry survives a failover; 0: answer once the master has them.
     */
    waitReplicas: number;
    /** How long a request waits for them before it is answered 503 (Retry-After). */
    waitReplicasTimeoutMs: number;
    /** Operational events: one per hook and action within this (HOOKWIRE_EVENT_WINDOW_MS). */
    eventWindowMs: number;
  };
  worker: {
    /** Jobs (batches of deliveries) in flight at once, in each partition the worker consumes. */
    concurrency: number;
    /** HOOKWIRE_WORKER_PARTITIONS: the partitions this worker consumes; undefined: all of them. */
    partitions: number[] | undefined;
    metricsPort: number;
    /**
     * A job whose worker stops renewing its lock this long is picked up by another; likewise a
     * committed batch of deliveries nobody queued or holds (the outbox's lease, read by ingest too).
     */
    lockMs: number;
    /** On SIGTERM, how long in-flight attempts may take to finish. */
    shutdownGraceMs: number;
    retryScheduleSeconds: number[] | undefined;
    retryAfterCapMs: number;
    allowPrivateNetworks: boolean;
    allowedNetworks: string[];
    /** HOOKWIRE_EGRESS_PROXY: the HTTP CONNECT proxy every delivery leaves through (checked by the sender). */
    egressProxy: string | undefined;
    perHookConcurrency: number;
    circuitFailureThreshold: number;
    circuitOpenMs: number;
    disableAfterMs: number;
    retentionSucceededMs: number;
    retentionFailedMs: number;
  };
}

/** Partitions on a Redis Cluster unless HOOKWIRE_QUEUE_PARTITIONS says: room for 4 masters. */
export const DEFAULT_CLUSTER_PARTITIONS = 4;

/** HOOKWIRE_HOOK_CONCURRENCY's default: requests in flight to one hook, and its connections. */
export const DEFAULT_HOOK_CONCURRENCY = 10;

const DEFAULTS = {
  port: 8080,
  // Loopback unless told otherwise: a fresh `npm start` is not an open door on the network.
  host: "127.0.0.1",
  bodyLimitBytes: 1024 * 1024, // 1 MiB
  maxQueueDepth: 1_000_000,
  rateLimitPerMinute: 6_000,
  idempotencyWindowMs: 7 * 24 * 3600e3, // 7 days
  claimLeaseMs: 10e3,
  waitReplicas: 0,
  waitReplicasTimeoutMs: 1_000,
  eventWindowMs: 60_000,
  sentinelName: "mymaster",
  sentinelPort: 26379,
  redisPort: 6379,
  workerConcurrency: 64,
  workerMetricsPort: 9464,
  lockMs: 30e3,
  shutdownGraceMs: 20e3,
  retryAfterCapMs: 3600e3, // 1 h
  perHookConcurrency: DEFAULT_HOOK_CONCURRENCY,
  circuitFailureThreshold: 5,
  circuitOpenMs: 30e3,
  disableAfterMs: 5 * 24 * 3600e3, // 5 days
  retentionSucceededMs: 24 * 3600e3, // 24 h
  retentionFailedMs: 14 * 24 * 3600e3, // 14 days
} as const satisfies Record<string, number | string>;

type Env = Record<string, string | undefined>;

/**
 * Reads every setting from the environment once, applies the defaults and reports every bad
 * value together (ConfigError), so an operator fixes them in one go. The result is frozen.
 */
export function loadConfig(env: Env = process.env): Readonly<HookwireConfig> {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const queuePrefix = env.HOOKWIRE_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX;
  if (!isValidPrefix(queuePrefix)) {
    problems.push(
      `HOOKWIRE_QUEUE_PREFIX=${JSON.stringify(queuePrefix)}: use 1 to 64 of A-Z a-z 0-9 _ . - { }`,
    );
  }
  const sentinels = parseSentinels(env, problems);
  const { url: redisUrl, cluster } = parseCluster(env, problems);
  if (sentinels !== undefined && cluster !== undefined)
    problems.push(
      "REDIS_SENTINELS and a cluster (REDIS_CLUSTER_NODES or redis+cluster://) are both set: use one",
    );
  const queuePartitions = read.int(
    "HOOKWIRE_QUEUE_PARTITIONS",
    cluster === undefined ? 1 : DEFAULT_CLUSTER_PARTITIONS,
    1,
    MAX_PARTITIONS,
  );
  const config: HookwireConfig = {
    redis: { url: redisUrl, sentinels, cluster },
    queuePrefix: cluster === undefined ? queuePrefix : clusterPrefix(queuePrefix),
    queuePartitions,
    secretKey: env.HOOKWIRE_SECRET_KEY || undefined,
    extraIntegrationsDirs: (env.HOOKWIRE_INTEGRATIONS_DIR ?? "").split(":").filter((dir) => dir !== ""),
    logLevel: read.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
    ingest: {
      host: env.HOOKWIRE_HOST ?? DEFAULTS.host,
      port: read.int("HOOKWIRE_PORT", DEFAULTS.port, 0, 65_535),
      apiKeys: parseApiKeys(env, problems),
      bodyLimitBytes: read.int("HOOKWIRE_BODY_LIMIT_BYTES", DEFAULTS.bodyLimitBytes, 1024, 64 * 1024 * 1024),
      maxQueueDepth: read.int("HOOKWIRE_MAX_QUEUE_DEPTH", DEFAULTS.maxQueueDepth, 1),
      rateLimitPerMinute: read.int("HOOKWIRE_RATE_LIMIT_PER_MINUTE", DEFAULTS.rateLimitPerMinute, 1),
      idempotencyWindowMs: read.int("HOOKWIRE_IDEMPOTENCY_WINDOW_MS", DEFAULTS.idempotencyWindowMs, 1000),
      claimLeaseMs: read.int("HOOKWIRE_CLAIM_LEASE_MS", DEFAULTS.claimLeaseMs, 300, 600e3),
      hooksFile: env.HOOKWIRE_HOOKS_FILE || undefined,
      publicUrl: env.HOOKWIRE_PUBLIC_URL?.replace(/\/+$/, "") || undefined,
      queueViewWritable: read.bool("HOOKWIRE_QUEUE_VIEW_WRITABLE", false),
      requireDurableRedis: read.bool("HOOKWIRE_REQUIRE_DURABLE_REDIS", false),
      waitReplicas: read.int("HOOKWIRE_REDIS_WAIT_REPLICAS", DEFAULTS.waitReplicas, 0, 64),
      waitReplicasTimeoutMs: read.int(
        "HOOKWIRE_REDIS_WAIT_TIMEOUT_MS",
        DEFAULTS.waitReplicasTimeoutMs,
        1,
        10_000,
      ),
      eventWindowMs: read.int("HOOKWIRE_EVENT_WINDOW_MS", DEFAULTS.eventWindowMs, 0),
    },
    worker: {
      concurrency: read.int("HOOKWIRE_WORKER_CONCURRENCY", DEFAULTS.workerConcurrency, 1, 10_000),
      partitions: workerPartitionsOf(env.HOOKWIRE_WORKER_PARTITIONS, queuePartitions, problems),
      metricsPort: read.int("HOOKWIRE_WORKER_METRICS_PORT", DEFAULTS.workerMetricsPort, 0, 65_535),
      lockMs: read.int("HOOKWIRE_WORKER_LOCK_MS", DEFAULTS.lockMs, 1000),
      shutdownGraceMs: read.int("HOOKWIRE_SHUTDOWN_GRACE_MS", DEFAULTS.shutdownGraceMs, 0),
      retryScheduleSeconds: read.schedule("HOOKWIRE_RETRY_SCHEDULE"),
      retryAfterCapMs: read.int("HOOKWIRE_RETRY_AFTER_CAP_MS", DEFAULTS.retryAfterCapMs, 0),
      allowPrivateNetworks: read.bool("HOOKWIRE_ALLOW_PRIVATE_NETWORKS", false),
      allowedNetworks: (env.HOOKWIRE_ALLOWED_NETWORKS ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
      egressProxy: egressProxyOf(env.HOOKWIRE_EGRESS_PROXY, problems),
      perHookConcurrency: read.int("HOOKWIRE_HOOK_CONCURRENCY", DEFAULTS.perHookConcurrency, 1, 1000),
      circuitFailureThreshold: read.int("HOOKWIRE_CIRCUIT_FAILURES", DEFAULTS.circuitFailureThreshold, 1),
      circuitOpenMs: read.int("HOOKWIRE_CIRCUIT_OPEN_MS", DEFAULTS.circuitOpenMs, 100),
      disableAfterMs: read.int("HOOKWIRE_DISABLE_AFTER_MS", DEFAULTS.disableAfterMs, 1000),
      retentionSucceededMs: read.int("HOOKWIRE_RETENTION_SUCCEEDED_MS", DEFAULTS.retentionSucceededMs, 1000),
      retentionFailedMs: read.int("HOOKWIRE_RETENTION_FAILED_MS", DEFAULTS.retentionFailedMs, 1000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * REDIS_SENTINELS: comma-separated `host:port` (the port defaults to 26379; `[::1]:26379` for an
 * IPv6 address), the group's master named by REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD for
 * sentinels with a `requirepass`. Undefined without REDIS_SENTINELS.
 */
function parseSentinels(env: Env, problems: string[]): SentinelGroup | undefined {
  const raw = env.REDIS_SENTINELS ?? "";
  const name = env.REDIS_SENTINEL_NAME ?? "";
  if (raw.trim() === "") {
    if (name !== "" || env.REDIS_SENTINEL_PASSWORD) {
      problems.push(
        `${name !== "" ? "REDIS_SENTINEL_NAME" : "REDIS_SENTINEL_PASSWORD"} is set but REDIS_SENTINELS is not: name the sentinels (host:port,host:port)`,
      );
    }
    return undefined;
  }
  const nodes: { host: string; port: number }[] = [];
  for (const [index, item] of raw.split(",").entries()) {
    const node = parseHostPort(item.trim(), DEFAULTS.sentinelPort);
    if (node === undefined) {
      problems.push(
        `REDIS_SENTINELS[${index}]=${JSON.stringify(item.trim())}: expected host:port (port 1 to 65535), e.g. 10.0.0.5:26379`,
      );
    } else nodes.push(node);
  }
  if (name !== "" && !/^[\x21-\x7e]{1,128}$/.test(name)) {
    problems.push(
      `REDIS_SENTINEL_NAME=${JSON.stringify(name)}: expected the master's name of \`sentinel monitor\` (1 to 128 printable characters, no spaces)`,
    );
  }
  return {
    name: name || DEFAULTS.sentinelName,
    nodes,
    ...(env.REDIS_SENTINEL_PASSWORD ? { password: env.REDIS_SENTINEL_PASSWORD } : {}),
  };
}

/**
 * HOOKWIRE_WORKER_PARTITIONS: partition numbers and ranges, comma-separated (`0,2` or `0-3`), each
 * below HOOKWIRE_QUEUE_PARTITIONS; unset or empty: every partition.
 */
function workerPartitionsOf(
  value: string | undefined,
  count: number,
  problems: string[],
): number[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const chosen = new Set<number>();
  for (const part of value.split(",")) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = Number(range?.[1]);
    const to = Number(range?.[2] ?? range?.[1]);
    if (range === null || from > to || to >= count) {
      problems.push(
        `HOOKWIRE_WORKER_PARTITIONS=${JSON.stringify(value)}: expected partition numbers or ranges from 0 to ${count - 1} (HOOKWIRE_QUEUE_PARTITIONS=${count}), like 0,2 or 0-${count - 1}; ${JSON.stringify(part.trim())} is not one`,
      );
      return undefined;
    }
    for (let i = from; i <= to; i++) chosen.add(i);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * A Redis Cluster: REDIS_CLUSTER_NODES (comma-separated `host:port`, port default 6379), or a
 * REDIS_URL of the form `redis+cluster://[user:password@]host:port,host:port` (`rediss+cluster:`
 * for TLS). Answers the URL that gives the nodes' credentials and scheme, and the nodes (undefined
 * without a cluster).
 */
function parseCluster(env: Env, problems: string[]): { url: string; cluster: ClusterNodes | undefined } {
  const url = env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const fromUrl = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]*)\/?(\d*)$/.exec(url);
  const raw = fromUrl?.[3] ?? env.REDIS_CLUSTER_NODES ?? "";
  if (fromUrl === null && /^[a-z]+\+cluster:/.test(url)) {
    problems.push(
      "REDIS_URL: expected redis+cluster://[user:password@]host:port,host:port (or rediss+cluster://)",
    );
  }
  if (raw.trim() === "") {
    if (fromUrl !== null) problems.push("REDIS_URL: redis+cluster:// names no node (host:port,host:port)");
    return { url, cluster: undefined };
  }
  if (fromUrl !== null && env.REDIS_CLUSTER_NODES)
    problems.push("REDIS_CLUSTER_NODES and a redis+cluster:// REDIS_URL are both set: use one");
  if (fromUrl?.[4] !== undefined && fromUrl[4] !== "" && fromUrl[4] !== "0")
    problems.push(`REDIS_URL: a Redis Cluster has only database 0, not ${fromUrl[4]}`);
  const name = fromUrl === null ? "REDIS_CLUSTER_NODES" : "REDIS_URL";
  const nodes: { host: string; port: number }[] = [];
  for (const [index, item] of raw.split(",").entries()) {
    const node = parseHostPort(item.trim(), DEFAULTS.redisPort);
    if (node === undefined) {
      problems.push(
        `${name}[${index}]=${JSON.stringify(item.trim())}: expected host:port (port 1 to 65535), e.g. 10.0.0.5:6379`,
      );
    } else nodes.push(node);
  }
  // The nodes' credentials and scheme: from the cluster URL, else from REDIS_URL as it is.
  const credentials =
    fromUrl === null ? url : `${fromUrl[1]}://${fromUrl[2] ? `${fromUrl[2]}@` : ""}localhost`;
  return { url: credentials, cluster: { nodes } };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; undefined when it is none of them. */
function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+))(?::(\d{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? "", port };
}

const SCOPES: readonly Scope[] = ["ingest", "read", "admin"];

/** An API key shorter than this is refused at start: 24 random characters cannot be guessed. */
export const MIN_API_KEY_LENGTH = 24;

/**
 * HOOKWIRE_API_KEYS: comma-separated `token=scope+scope` (e.g. `k1=ingest,k2=read+ingest,k3=admin`);
 * HOOKWIRE_API_KEY: one token with the admin scope. Admin implies every scope.
 */
function parseApiKeys(env: Env, problems: string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  const single = env.HOOKWIRE_API_KEY;
  if (single && single.length < MIN_API_KEY_LENGTH) {
    problems.push(
      `HOOKWIRE_API_KEY: at least ${MIN_API_KEY_LENGTH} characters, so that it cannot be guessed (this one has ${single.length}); e.g. openssl rand -hex 24`,
    );
  } else if (single) keys.push({ token: single, scopes: new Set(SCOPES), label: "HOOKWIRE_API_KEY" });
  const list = (env.HOOKWIRE_API_KEYS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  list.forEach((item, index) => {
    const label = `HOOKWIRE_API_KEYS[${index}]`;
    const eq = item.lastIndexOf("=");
    const token = eq > 0 ? item.slice(0, eq) : "";
    const scopes = eq > 0 ? item.slice(eq + 1).split("+") : [];
    const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope));
    if (token.length < MIN_API_KEY_LENGTH || scopes.length === 0 || unknown.length > 0) {
      problems.push(
        `${label}: each key is token=scope+scope with a token of at least ${MIN_API_KEY_LENGTH} characters and scopes among ${SCOPES.join(", ")}` +
          (unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""),
      );
      return;
    }
    const granted = new Set(scopes as Scope[]);
    if (granted.has("admin")) for (const scope of SCOPES) granted.add(scope);
    keys.push({ token, scopes: granted, label });
  });
  return keys;
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    this.problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(", ")}`);
    return fallback;
  }

  schedule(name: string): number[] | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return undefined;
    const seconds = raw.split(",").map((s) => Number(s.trim()));
    if (seconds.length === 0 || seconds.some((s) => !Number.isFinite(s) || s < 0)) {
      this.problems.push(
        `${name}=${JSON.stringify(raw)}: expected seconds separated by commas, e.g. 5,300,1800`,
      );
      return undefined;
    }
    return seconds;
  }
}

/** HOOKWIRE_EGRESS_PROXY: an http:// URL, or unset; the sender reads the rest of it. Never echoed (it may hold a password). */
function egressProxyOf(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== "http:" || url.hostname === "") {
    problems.push(
      "HOOKWIRE_EGRESS_PROXY: expected the http:// URL of an HTTP CONNECT proxy, http://[user:password@]host:port",
    );
    return undefined;
  }
  return value.trim();
}
