/**
 * What the harness reads of hookwire's delivery records in Redis, under the prefix of each
 * delivery's partition, with the store's own reading of them (its DeliveryLog, its codec): a
 * record's status, acceptance time and attempts. A compact record is a field of its hook's
 * bucket, `<prefix>:hook:<hookId>:records:<bucket>` (`...:<bucket>:pending` while pending); any
 * other is `<prefix>:delivery:<id>`.
 * Read-only.
 */
import {
  DELIVERY_QUEUE,
  decodeBatch,
  hookIdOfDelivery,
  jobIdOf,
  type OutboxBatch,
  type Partitions,
} from "@hookwire/queue";
import { DeliveryLog, decodeRecord } from "@hookwire/store";
import { Redis } from "ioredis";

export interface RecordView {
  status: string;
  acceptedAt: number | undefined;
  /** Attempts the record lists, when it keeps them inside. */
  attempts: number | undefined;
  /** When its first attempt started, when the record lists it. */
  firstAttemptAt: number | undefined;
}

/** Keys read per MGET and scanned per SCAN step. */
const CHUNK = 1_000;
/** SCAN steps at most in one count (a million keys at 1 000 a step). */
const MAX_SCAN_STEPS = 1_000;

/**
 * A connection of its own for one reading, opened now: right after Redis comes back, a fresh
 * connection reads before the services' reconnecting ones (their backoff reaches 2 s).
 */
export async function withFreshConnection<T>(url: string, read: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, {
    connectionName: "hookwire-chaos",
    maxRetriesPerRequest: 3,
    lazyConnect: true,
  });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return await read(redis);
  } finally {
    redis.disconnect();
  }
}

/** Status, acceptedAt and attempts of each delivery id that has a record (ids without one are left out). */
export async function readRecords(
  redis: Redis,
  partitions: Partitions,
  ids: readonly string[],
): Promise<Map<string, RecordView>> {
  const found = new Map<string, RecordView>();
  for (const { partition, items } of partitions.group(ids, hookIdOfDelivery)) {
    const log = new DeliveryLog(redis, partition.keys, { claims: partitions.base.keys });
    for (let i = 0; i < items.length; i += CHUNK) {
      for (const [id, record] of await log.getMany(items.slice(i, i + CHUNK))) {
        found.set(id, {
          status: record.status ?? "?",
          acceptedAt: record.acceptedAt,
          attempts: Array.isArray(record.attempts) ? record.attempts.length : undefined,
          firstAttemptAt: Array.isArray(record.attempts) ? record.attempts[0]?.at : undefined,
        });
      }
    }
  }
  return found;
}

/** The ids among `ids` that Redis records as succeeded. */
export async function succeededAmong(
  redis: Redis,
  partitions: Partitions,
  ids: readonly string[],
): Promise<Set<string>> {
  const records = await readRecords(redis, partitions, ids);
  return new Set(ids.filter((id) => records.get(id)?.status === "succeeded"));
}

/**
 * Delivery records still `pending`: every one in every partition, or only the deliveries of
 * `hookIds`, in their partitions: the compact ones in their hooks' buckets, the others in their
 * own keys (delivery ids start with `<hookId>.`).
 */
export async function countPending(
  redis: Redis,
  partitions: Partitions,
  hookIds?: readonly string[],
): Promise<number> {
  const patterns =
    hookIds === undefined
      ? partitions.all.map(({ prefix }) => ({ prefix, hook: "*", match: "*" }))
      : hookIds.map((hookId) => ({
          prefix: partitions.of(hookId).prefix,
          hook: hookId,
          match: `${hookId}.*`,
        }));
  let pending = 0;
  for (const { prefix, hook, match } of patterns) {
    const whole = `${prefix}:delivery:`;
    for await (const keys of scanned(redis, `${whole}${match}`)) {
      const records = keys.filter((key) => !key.endsWith(":attempts"));
      if (records.length === 0) continue;
      const raws = await redis.mget(records);
      raws.forEach((raw, i) => {
        if (raw !== null && decodeRecord(records[i]!.slice(whole.length), raw).status === "pending")
          pending++;
      });
    }
    for await (const buckets of scanned(redis, `${prefix}:hook:${hook}:records:*`)) {
      for (const bucket of buckets) {
        const hookId = bucket.slice(`${prefix}:hook:`.length, bucket.lastIndexOf(":records:"));
        for (const [entryId, raw] of Object.entries(await redis.hgetall(bucket))) {
          if (decodeRecord(`${hookId}.${entryId}`, raw).status === "pending") pending++;
        }
      }
    }
  }
  return pending;
}

/** The keys matching `pattern`, a SCAN step at a time. */
async function* scanned(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = "0";
  let steps = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", CHUNK);
    cursor = next;
    if (found.length > 0) yield found;
  } while (cursor !== "0" && ++steps < MAX_SCAN_STEPS);
}

/** The fields of a BullMQ job hash worth printing of a job that should have run, by their names there. */
const JOB_FIELDS: Record<string, string> = {
  atm: "attemptsMade",
  ats: "attemptsStarted",
  stc: "stalledCounter",
  timestamp: "timestamp",
  delay: "delay",
  processedOn: "processedOn",
  finishedOn: "finishedOn",
  failedReason: "failedReason",
};

/**
 * Where each of `ids` is, in one line each, for a delivery that never arrived: its record's
 * status and attempts; the outbox batch that holds it, when its lease is due, and the BullMQ job
 * that queues it (its state and hash fields); or that no batch holds it. Read when a scenario's
 * wait ends with deliveries missing, before Redis is torn down, so that a loss can be told
 * apart from a job that was still to run (its backoff past the wait).
 */
export async function whereabouts(
  redis: Redis,
  partitions: Partitions,
  ids: readonly string[],
  now = Date.now(),
): Promise<string[]> {
  const records = await readRecords(redis, partitions, ids);
  const lines: string[] = [];
  for (const { partition, items } of partitions.group(ids, hookIdOfDelivery)) {
    const { keys, prefix } = partition;
    const batches = await redis.hgetall(keys.outbox);
    const holder = new Map<string, OutboxBatch>();
    for (const [batchId, raw] of Object.entries(batches)) {
      const batch = decodeBatch(batchId, raw);
      for (const delivery of batch.data.deliveries) holder.set(delivery.id, batch);
    }
    for (const id of items) {
      const record = records.get(id);
      const recordNote =
        record === undefined ? "no record" : `record ${record.status}, ${record.attempts ?? "?"} attempts`;
      const batch = holder.get(id);
      if (batch === undefined) {
        lines.push(`${id}: ${recordNote}; in no outbox batch`);
        continue;
      }
      const due = await redis.zscore(keys.outboxDue, batch.id);
      const jobId = jobIdOf(batch);
      lines.push(
        `${id}: ${recordNote}; batch ${batch.id} (${batch.data.deliveries.length} deliveries), ` +
          `due ${due === null ? "never" : `in ${Math.round(Number(due) - now)} ms`}, ` +
          `job ${jobId}: ${await jobState(redis, `${prefix}:${DELIVERY_QUEUE}`, jobId, now)}`,
      );
    }
  }
  return lines;
}

/** A BullMQ job's state (the sets that hold it) and its hash's fields, read as they are. */
async function jobState(redis: Redis, queue: string, jobId: string, now: number): Promise<string> {
  const [fields, wait, active, delayed, prioritized, completed, failed] = await Promise.all([
    redis.hmget(`${queue}:${jobId}`, ...Object.keys(JOB_FIELDS)),
    redis.lpos(`${queue}:wait`, jobId),
    redis.lpos(`${queue}:active`, jobId),
    redis.zscore(`${queue}:delayed`, jobId),
    redis.zscore(`${queue}:prioritized`, jobId),
    redis.zscore(`${queue}:completed`, jobId),
    redis.zscore(`${queue}:failed`, jobId),
  ]);
  const states = [
    wait !== null && "waiting",
    active !== null && "active",
    // A delayed job's score is its run time × 4096 (plus a counter).
    delayed !== null && `delayed (runs in ${Math.round(Number(delayed) / 4096 - now)} ms)`,
    prioritized !== null && "prioritized",
    completed !== null && "completed",
    failed !== null && "failed",
  ].filter(Boolean);
  const hash = Object.values(JOB_FIELDS)
    .map((name, i) => (fields[i] === null ? undefined : `${name}=${fields[i]}`))
    .filter(Boolean)
    .join(" ");
  return `${states.length > 0 ? states.join("+") : "in no set"}${hash === "" ? ", no hash" : `, ${hash}`}`;
}
