/**
 * What the harness reads of hookwire's delivery records in Redis: `<prefix>:delivery:<id>` under
 * the prefix of the delivery's partition, one JSON string per delivery with its `status` and
 * `acceptedAt` (the attempts live beside it, in `<prefix>:delivery:<id>:attempts`, and are left
 * alone). Read-only.
 */
import { hookIdOfDelivery, type Keyspace, type Partitions } from "@hookwire/queue";
import { decodeRecord } from "@hookwire/store";
import { Redis } from "ioredis";

interface StoredRecord {
  status?: string;
  acceptedAt?: number;
  attempts?: { at?: number }[];
}

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
    await readRecordsIn(redis, partition.keys, items, found);
  }
  return found;
}

async function readRecordsIn(
  redis: Redis,
  keys: Keyspace,
  ids: readonly string[],
  found: Map<string, RecordView>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const raws = await redis.mget(chunk.map((id) => keys.delivery(id)));
    raws.forEach((raw, j) => {
      if (raw === null) return;
      const record = decodeRecord(chunk[j]!, raw) as StoredRecord;
      found.set(chunk[j]!, {
        status: record.status ?? "?",
        acceptedAt: record.acceptedAt,
        attempts: Array.isArray(record.attempts) ? record.attempts.length : undefined,
        firstAttemptAt: Array.isArray(record.attempts) ? record.attempts[0]?.at : undefined,
      });
    });
  }
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
 * `hookIds` (delivery ids start with `<hookId>.`), in their partitions.
 */
export async function countPending(
  redis: Redis,
  partitions: Partitions,
  hookIds?: readonly string[],
): Promise<number> {
  const patterns =
    hookIds === undefined
      ? partitions.all.map(({ prefix }) => ({ prefix, match: "*" }))
      : hookIds.map((hookId) => ({ prefix: partitions.of(hookId).prefix, match: `${hookId}.*` }));
  let pending = 0;
  for (const { prefix, match } of patterns) {
    const under = `${prefix}:delivery:`;
    let cursor = "0";
    let steps = 0;
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${under}${match}`, "COUNT", CHUNK);
      cursor = next;
      const records = found.filter((key) => !key.endsWith(":attempts"));
      if (records.length > 0) {
        const raws = await redis.mget(records);
        raws.forEach((raw, i) => {
          if (raw !== null && decodeRecord(records[i]!.slice(under.length), raw).status === "pending")
            pending++;
        });
      }
    } while (cursor !== "0" && ++steps < MAX_SCAN_STEPS);
  }
  return pending;
}
