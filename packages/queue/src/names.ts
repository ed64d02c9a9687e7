/**
 * Every Redis key hookwire writes starts with the installation's prefix (HOOKWIRE_QUEUE_PREFIX,
 * default "hookwire"), so several installations can share one Redis.
 */
export const DEFAULT_QUEUE_PREFIX = "hookwire";

/** The BullMQ queue that carries deliveries. */
export const DELIVERY_QUEUE = "deliveries";

/**
 * Upper bounds (seconds) of the latency histograms, shared by the worker's Prometheus histograms
 * and the per-minute stats in Redis (`statsMinute`), so both give the same percentiles.
 * End to end (entry accepted → 2xx): milliseconds when all is well, hours after retries.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600,
];
/** One HTTP attempt of a delivery. */
export const ATTEMPT_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Minute buckets outlive the hour `GET /v1/stats` shows, with room for clock skew. */
export const STATS_TTL_MS = 2 * 3600e3;

/** The minute bucket's field that counts deliveries a sweeper found stuck and queued again. */
export const STATS_STUCK_FIELD = "deliveries:stuck";

const PREFIX_PATTERN = /^[A-Za-z0-9_.{}-]{1,64}$/;

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}

/**
 * The prefix on a Redis Cluster: a hash tag (`{hookwire}`), which each partition varies
 * (`{hookwire:p1}`, see partitions.ts), so that BullMQ's scripts, the outbox's and each MULTI,
 * all within one partition, stay in one slot (a cluster refuses them across slots: CROSSSLOT). A
 * prefix with a tag of its own is kept as it is.
 */
export function clusterPrefix(prefix: string): string {
  return /\{[^{}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** Names of hookwire's own keys (BullMQ names its keys itself, under the same prefix). */
export function keyspace(prefix: string) {
  return {
    hooks: `${prefix}:hooks`,
    hooksVersion: `${prefix}:hooks:version`,
    /** How many partitions the installation was started with (see partitions.ts), partition 0 only. */
    partitions: `${prefix}:partitions`,
    hookHealth: (hookId: string) => `${prefix}:hook:${hookId}:health`,
    /** A hook's limits shared by the workers (the worker's hook-limits.ts says what is in each). */
    hookWorkers: (hookId: string) => `${prefix}:hook:${hookId}:workers`,
    hookLeases: (hookId: string) => `${prefix}:hook:${hookId}:leases`,
    hookBucket: (hookId: string) => `${prefix}:hook:${hookId}:bucket`,
    delivery: (deliveryId: string) => `${prefix}:delivery:${deliveryId}`,
    /**
     * The compact records of a hook's deliveries accepted within one bucket of time (the store's
     * delivery-log.ts): a hash, field the entry id, value the record.
     */
    deliveryBucket: (hookId: string, bucket: number) => `${prefix}:hook:${hookId}:records:${bucket}`,
    /** The same bucket's records still pending, apart: they are kept as long as failed ones. */
    pendingBucket: (hookId: string, bucket: number) => `${prefix}:hook:${hookId}:records:${bucket}:pending`,
    /** How far each index's bucket members were trimmed (see the store's DeliveryLog.trimIndexes). */
    deliveriesTrimmed: `${prefix}:index:deliveries:trimmed`,
    deliveryAttempts: (deliveryId: string) => `${prefix}:delivery:${deliveryId}:attempts`,
    // BullMQ keeps the delivery queue under `<prefix>:deliveries:*` (its failed jobs in
    // `<prefix>:deliveries:failed`): hookwire's own indexes must live elsewhere.
    deliveriesByTime: `${prefix}:index:deliveries`,
    deliveriesByHook: (hookId: string) => `${prefix}:hook:${hookId}:deliveries`,
    deliveriesByStatus: (status: string) => `${prefix}:index:deliveries:${status}`,
    /**
     * The outbox (see outbox.ts): one hash field per queued batch of deliveries (field: the job id,
     * value: the batch), kept from the moment its deliveries are committed until they are settled,
     * and the time after which a sweeper may take each one over (a sorted set, scores in epoch ms).
     */
    outbox: `${prefix}:outbox`,
    outboxDue: `${prefix}:outbox:due`,
    /**
     * An ordered hook's sequence (see sequence.ts): its deliveries by the entry's time, their
     * values, the lock of the worker sending its head; and when each hook's sequence is due.
     */
    sequence: (hookId: string) => `${prefix}:hook:${hookId}:sequence`,
    sequenceData: (hookId: string) => `${prefix}:hook:${hookId}:sequence:data`,
    sequenceLock: (hookId: string) => `${prefix}:hook:${hookId}:sequence:lock`,
    sequencesDue: `${prefix}:sequences:due`,
    /**
     * An entry id's claim: a lease token while a request is accepting it, then, for the window,
     * the id of the request that accepted it (its trace, below; "1" before traces were kept).
     */
    entrySeen: (entryId: string) => `${prefix}:entry:${entryId}`,
    /** What became of each entry of one accepted request, per hook (see the store's EntryTrace). */
    requestTrace: (requestId: string) => `${prefix}:trace:${requestId}`,
    idempotencyKey: (key: string) => `${prefix}:idempotency:${key}`,
    /** An authorization_code connection under way: {hookId, codeVerifier, redirectUri}, minutes. */
    oauthState: (state: string) => `${prefix}:oauth:state:${state}`,
    stats: (name: string) => `${prefix}:stats:${name}`,
    /**
     * One hash per minute (epoch minute = floor(ms / 60 000)), kept ~2 h, written by the worker
     * (and by ingest for deliveries that fail before queueing), summed by `GET /v1/stats`.
     * Fields, all HINCRBY counts unless said: `deliveries:<succeeded|failed|skipped|stuck>` (stuck:
     * found by a sweeper with nothing queued behind them, and queued again),
     * `attempts:<succeeded|retry|failed>`, `latency:le:<seconds|+Inf>` and `latency:sum_ms`
     * (entry accepted → 2xx), `attempt:le:<seconds|+Inf>` and `attempt:sum_ms` (one request),
     * `hook:<hookId>:<succeeded|failed>`, and `queue:<state>` (HSET, the latest sample).
     * Histogram buckets are not cumulative; a field names its upper bound.
     */
    statsMinute: (epochMinute: number) => `${prefix}:stats:minute:${epochMinute}`,
    /**
     * Operational events (the store's operational-events.ts), a stream per partition read by
     * ingest's group `ingest`; and, in partition 0, the window in which an action about a hook
     * was last delivered (its rate limit).
     */
    events: `${prefix}:events`,
    eventSent: (hookId: string, action: string) => `${prefix}:events:sent:${hookId}:${action}`,
  };
}

export type Keyspace = ReturnType<typeof keyspace>;
