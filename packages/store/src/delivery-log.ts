import { type JobDelivery, type Keyspace, LuaScript } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";

export type DeliveryStatus = "pending" | "succeeded" | "failed" | "skipped";

export interface AttemptRecord {
  attempt: number;
  /** When the request started (epoch ms). */
  at: number;
  durationMs: number;
  statusCode?: number;
  errorCode?: string;
  errorMessage?: string;
  /** The first 4 KiB of an error answer, kept only where the integration allows it. */
  errorBody?: string;
  /** What came of it: done, retry, give_up. */
  outcome: string;
}

export interface DeliveryRecord {
  id: string;
  hookId: string;
  entryId: string;
  status: DeliveryStatus;
  templateKey?: string;
  /** When ingest accepted the entry (epoch ms). */
  acceptedAt: number;
  updatedAt: number;
  nextAttemptAt?: number;
  /** Why it failed or was skipped, in a few words. */
  reason?: string;
  attempts: AttemptRecord[];
  /**
   * What the job carried, kept with dead letters (failed deliveries) so they can be retried or
   * replayed. It never holds a secret: bodies that read secrets are rendered at send time.
   */
  payload?: JobDelivery;
}

/** The first characters of a compact record (a JSON record starts with `{`). */
const COMPACT = "~1|";

/**
 * A record as it is kept. A delivery that succeeded at its first attempt, with nothing else to
 * say, is kept compact, since most records are such and they are kept for a day: its times, its
 * attempt's time, duration and status, and its template, in about 45 bytes instead of a JSON
 * document of 350. Every other record is kept whole, as JSON: failed ones, and those that
 * succeeded after failed attempts (the failures are what an operator looks for).
 */
export function encodeRecord(record: DeliveryRecord): string {
  const [last, ...more] = record.attempts;
  if (
    record.status !== "succeeded" ||
    last === undefined ||
    more.length > 0 ||
    last.outcome !== "done" ||
    record.reason !== undefined ||
    record.payload !== undefined ||
    record.nextAttemptAt !== undefined ||
    last.errorCode !== undefined ||
    last.errorMessage !== undefined ||
    last.errorBody !== undefined
  )
    return JSON.stringify(record);
  const { acceptedAt } = record;
  return `${COMPACT}${acceptedAt}|${record.updatedAt - acceptedAt}|${last.attempt}|${last.at - acceptedAt}|${last.durationMs}|${last.statusCode ?? ""}|${record.templateKey ?? ""}`;
}

/** The record of delivery `id` as kept (see encodeRecord). */
export function decodeRecord(id: string, raw: string): DeliveryRecord {
  if (!raw.startsWith(COMPACT)) return JSON.parse(raw) as DeliveryRecord;
  const parts = raw.slice(COMPACT.length).split("|");
  const at = (i: number) => Number(parts[i]) || 0;
  const acceptedAt = at(0);
  const last: AttemptRecord = { attempt: at(2), at: acceptedAt + at(3), durationMs: at(4), outcome: "done" };
  if (parts[5]) last.statusCode = at(5);
  const dot = id.indexOf(".");
  const record: DeliveryRecord = {
    id,
    hookId: id.slice(0, dot),
    entryId: id.slice(dot + 1),
    status: "succeeded",
    acceptedAt,
    updatedAt: acceptedAt + at(1),
    attempts: [last],
  };
  const templateKey = parts.slice(6).join("|");
  if (templateKey !== "") record.templateKey = templateKey;
  return record;
}

export interface RetentionMs {
  succeeded: number;
  failed: number;
}

export const DEFAULT_RETENTION_MS: RetentionMs = {
  succeeded: 24 * 3600e3, // 24 h
  failed: 14 * 24 * 3600e3, // 14 days
};

export interface DeliveryQuery {
  hookId?: string;
  entryId?: string;
  status?: DeliveryStatus;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  limit?: number;
}

export interface DeliveryPage {
  deliveries: DeliveryRecord[];
  nextCursor?: string;
}

/**
 * KEYS: the records' keys. ARGV[1] their TTL in ms, ARGV[2..] their values, in the keys' order.
 * The records of a batch (or of a request) that share a retention, in one command: a MULTI of
 * 25 or 100 SETs costs the client a command, a promise and a QUEUED reply for each.
 */
const PUT_SCRIPT = `local ttl = ARGV[1]
for i, key in ipairs(KEYS) do redis.call("SET", key, ARGV[i + 1], "PX", ttl) end
return #KEYS`;

const PUT = new LuaScript("hookwireRecordsPut", undefined, PUT_SCRIPT);
/** The log's scripts, for `defineScripts` on the connections that commit deliveries. */
export const LOG_SCRIPTS: readonly LuaScript[] = [PUT];

/**
 * Delivery records: one JSON string per delivery (its attempts inside), expiring with the
 * retention of its status, indexed by time (all, per hook) and, for dead letters, by status.
 *
 * The hot path writes a batch's records in one command (see PUT_SCRIPT), in the MULTI of the
 * rest of its batch; listing walks the time index newest first and drops what expired or does
 * not match.
 */
export class DeliveryLog {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #retention: RetentionMs;

  constructor(redis: Redis, keys: Keyspace, retention: RetentionMs = DEFAULT_RETENTION_MS) {
    this.#redis = redis;
    this.#keys = keys;
    this.#retention = retention;
  }

  /** Adds the writes that record new deliveries to `pipeline` (ingest sends it with its queueing). */
  recordAccepted(pipeline: ChainableCommander, records: readonly DeliveryRecord[]): void {
    if (records.length === 0) return;
    const byTime: (string | number)[] = [];
    const byHook = new Map<string, (string | number)[]>();
    this.#putAll(pipeline, records);
    for (const record of records) {
      byTime.push(record.acceptedAt, record.id);
      const members = byHook.get(record.hookId) ?? [];
      if (members.length === 0) byHook.set(record.hookId, members);
      members.push(record.acceptedAt, record.id);
    }
    pipeline.zadd(this.#keys.deliveriesByTime, ...byTime);
    for (const [hookId, members] of byHook) pipeline.zadd(this.#keys.deliveriesByHook(hookId), ...members);
    const failed = records.filter((r) => r.status === "failed");
    if (failed.length > 0)
      pipeline.zadd(this.#keys.deliveriesByStatus("failed"), ...failed.flatMap((r) => [r.updatedAt, r.id]));
  }

  /** Adds the writes of deliveries' new states (each with the status it had before) to `pipeline`. */
  recordUpdates(
    pipeline: ChainableCommander,
    updates: readonly { record: DeliveryRecord; previous?: DeliveryStatus | undefined }[],
  ): void {
    if (updates.length === 0) return;
    this.#putAll(
      pipeline,
      updates.map((update) => update.record),
    );
    for (const { record, previous } of updates) {
      if (record.status === "failed")
        pipeline.zadd(this.#keys.deliveriesByStatus("failed"), record.updatedAt, record.id);
      else if (previous === "failed") pipeline.zrem(this.#keys.deliveriesByStatus("failed"), record.id);
    }
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const raw = await this.#redis.get(this.#keys.delivery(id));
    return raw === null ? undefined : decodeRecord(id, raw);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    if (ids.length === 0) return found;
    const raws = await this.#redis.mget(ids.map((id) => this.#keys.delivery(id)));
    raws.forEach((raw, i) => {
      if (raw !== null) found.set(ids[i]!, decodeRecord(ids[i]!, raw));
    });
    return found;
  }

  /**
   * Newest first, `limit` at a time. Many deliveries share one score (a batch is accepted in one
   * millisecond), so the cursor is a score plus how many members of that score were already seen.
   */
  async list(query: DeliveryQuery): Promise<DeliveryPage> {
    const start = query.cursor === undefined ? START : decodeCursor(query.cursor);
    const walked = await this.walk(query, pageLimit(query), start);
    const deliveries = walked.found.map((found) => found.record);
    return walked.more ? { deliveries, nextCursor: encodeCursor(walked.position) } : { deliveries };
  }

  /**
   * Up to `limit` matching records from `from` on, newest first, each with the position just past
   * it; `more` is false once the index ended. Walks the index in windows until the page is full,
   * the index ends or enough was scanned; members whose record expired are trimmed on the way.
   */
  async walk(query: DeliveryQuery, limit: number, from: LogPosition): Promise<WalkedPage> {
    const index =
      query.status === "failed"
        ? this.#keys.deliveriesByStatus("failed")
        : query.hookId !== undefined
          ? this.#keys.deliveriesByHook(query.hookId)
          : this.#keys.deliveriesByTime;
    let position = from;
    const found: { record: DeliveryRecord; position: LogPosition }[] = [];
    for (let scanned = 0; scanned < 20_000; ) {
      const window = await this.#redis.zrevrangebyscore(
        index,
        position.score,
        "-inf",
        "WITHSCORES",
        "LIMIT",
        position.seen,
        200,
      );
      if (window.length === 0) return { found, more: false, position };
      const ids: string[] = [];
      for (let i = 0; i < window.length; i += 2) ids.push(window[i]!);
      scanned += ids.length;
      const records = await this.getMany(ids);
      const gone = ids.filter((id) => !records.has(id));
      if (gone.length > 0) await this.#redis.zrem(index, ...gone);
      for (let i = 0; i < ids.length; i++) {
        const record = records.get(ids[i]!);
        if (record === undefined) continue; // removed from the index just now: it no longer counts
        const score = window[2 * i + 1]!;
        position = score === position.score ? { score, seen: position.seen + 1 } : { score, seen: 1 };
        if (!matches(record, query)) continue;
        found.push({ record, position });
        if (found.length === limit) return { found, more: true, position };
      }
    }
    return { found, more: true, position };
  }

  /** Drops index members older than the longest retention; run now and then by the worker. */
  async trimIndexes(now = Date.now()): Promise<void> {
    const oldest = now - Math.max(this.#retention.failed, this.#retention.succeeded);
    await this.#redis.zremrangebyscore(this.#keys.deliveriesByTime, "-inf", oldest);
    await this.#redis.zremrangebyscore(
      this.#keys.deliveriesByStatus("failed"),
      "-inf",
      now - this.#retention.failed,
    );
  }

  /**
   * The records' writes, in their order: one command per run of records that share a retention
   * (a plain SET for a run of one), so that a delivery written twice keeps its last state.
   */
  #putAll(pipeline: ChainableCommander, records: readonly DeliveryRecord[]): void {
    let run: DeliveryRecord[] = [];
    let runTtl = 0;
    for (const record of records) {
      const ttlMs =
        record.status === "succeeded" || record.status === "skipped"
          ? this.#retention.succeeded
          : this.#retention.failed;
      if (ttlMs !== runTtl && run.length > 0) {
        this.#put(pipeline, run, runTtl);
        run = [];
      }
      runTtl = ttlMs;
      run.push(record);
    }
    this.#put(pipeline, run, runTtl);
  }

  #put(pipeline: ChainableCommander, records: readonly DeliveryRecord[], ttlMs: number): void {
    if (records.length === 0) return;
    if (records.length === 1) {
      const [record] = records as [DeliveryRecord];
      pipeline.set(this.#keys.delivery(record.id), encodeRecord(record), "PX", ttlMs);
      return;
    }
    const keys: string[] = [];
    const values: string[] = [];
    for (const record of records) {
      keys.push(this.#keys.delivery(record.id));
      values.push(encodeRecord(record));
    }
    PUT.add(pipeline, keys.length, ...keys, ttlMs, ...values);
  }
}

function matches(record: DeliveryRecord, query: DeliveryQuery): boolean {
  return (
    (query.hookId === undefined || record.hookId === query.hookId) &&
    (query.entryId === undefined || record.entryId === query.entryId) &&
    (query.status === undefined || record.status === query.status)
  );
}

/** Where a walk of an index stands: a score, and how many members of that score were passed. */
export interface LogPosition {
  score: string;
  seen: number;
}

export interface WalkedPage {
  found: { record: DeliveryRecord; position: LogPosition }[];
  more: boolean;
  position: LogPosition;
}

/** The newest end of an index. */
export const START: LogPosition = { score: "+inf", seen: 0 };

export function pageLimit(query: DeliveryQuery): number {
  return Math.min(Math.max(query.limit ?? 50, 1), 500);
}

/** A position as `score/seen`, the text a cursor is made of. */
export function positionText(position: LogPosition): string {
  return `${position.score}/${position.seen}`;
}

/** The position of `positionText`; undefined for anything else. */
export function positionOf(text: string): LogPosition | undefined {
  const [score, seen] = text.split("/");
  if (score === undefined || seen === undefined || !/^\d+$/.test(seen)) return undefined;
  if (score !== START.score && !Number.isFinite(Number(score))) return undefined;
  return { score, seen: Number(seen) };
}

function encodeCursor(position: LogPosition): string {
  return Buffer.from(positionText(position), "utf8").toString("base64url");
}

/** A cursor that is not one of ours starts from the newest end. */
function decodeCursor(cursor: string): LogPosition {
  return positionOf(Buffer.from(cursor, "base64url").toString("utf8")) ?? START;
}
