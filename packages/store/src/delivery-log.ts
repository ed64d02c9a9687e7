import { type JobDelivery, type Keyspace, LuaScript } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";
import { decodeClaim } from "./request-trace";

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

/** The first characters of a compact record (a JSON record starts with `{`): succeeded, pending. */
const COMPACT_SUCCEEDED = "~1|";
const COMPACT_PENDING = "~0|";

/**
 * A record as it is kept. Most records are one of two kinds, kept compact since they are kept for
 * a day: a delivery that succeeded at its first attempt, with nothing else to say (its times, its
 * attempt's time, duration and status, and its template, in about 45 bytes instead of a JSON
 * document of 350), and a delivery accepted and not yet attempted (its times and template). Every
 * other record is kept whole, as JSON: failed ones, those retried, and those that succeeded after
 * failed attempts (the failures are what an operator looks for).
 */
export function encodeRecord(record: DeliveryRecord): string {
  const { acceptedAt } = record;
  const template = record.templateKey ?? "";
  const plain =
    record.reason === undefined && record.payload === undefined && record.nextAttemptAt === undefined;
  if (record.status === "pending" && plain && record.attempts.length === 0)
    return `${COMPACT_PENDING}${acceptedAt}|${record.updatedAt - acceptedAt}|${template}`;
  const [last, ...more] = record.attempts;
  if (
    record.status !== "succeeded" ||
    !plain ||
    last === undefined ||
    more.length > 0 ||
    last.outcome !== "done" ||
    last.errorCode !== undefined ||
    last.errorMessage !== undefined ||
    last.errorBody !== undefined
  )
    return JSON.stringify(record);
  return `${COMPACT_SUCCEEDED}${acceptedAt}|${record.updatedAt - acceptedAt}|${last.attempt}|${last.at - acceptedAt}|${last.durationMs}|${last.statusCode ?? ""}|${template}`;
}

/** Whether a record as kept is compact (see encodeRecord). */
function isCompact(kept: string): boolean {
  return kept.charCodeAt(0) === 126; // "~"
}

/** The record of delivery `id` as kept (see encodeRecord). */
export function decodeRecord(id: string, raw: string): DeliveryRecord {
  if (!isCompact(raw)) return JSON.parse(raw) as DeliveryRecord;
  const succeeded = raw.startsWith(COMPACT_SUCCEEDED);
  const parts = raw.slice(COMPACT_SUCCEEDED.length).split("|");
  const at = (i: number) => Number(parts[i]) || 0;
  const acceptedAt = at(0);
  const dot = id.indexOf(".");
  const record: DeliveryRecord = {
    id,
    hookId: id.slice(0, dot),
    entryId: id.slice(dot + 1),
    status: succeeded ? "succeeded" : "pending",
    acceptedAt,
    updatedAt: acceptedAt + at(1),
    attempts: [],
  };
  if (succeeded) {
    const last: AttemptRecord = {
      attempt: at(2),
      at: acceptedAt + at(3),
      durationMs: at(4),
      outcome: "done",
    };
    if (parts[5]) last.statusCode = at(5);
    record.attempts.push(last);
  }
  const templateKey = parts.slice(succeeded ? 6 : 2).join("|");
  if (templateKey !== "") record.templateKey = templateKey;
  return record;
}

/**
 * Compact records are kept in buckets, not one key each: a hash per hook and BUCKET_MS of
 * acceptance, field the entry id. The bucket is found from the delivery's acceptance time (the
 * entry's claim holds it), and is indexed once rather than each of its records: at a few hundred
 * deliveries a second a bucket holds tens of records, small enough for Redis to keep it as one
 * listpack, so that a record costs little more than its own bytes.
 */
export const BUCKET_MS = 100;

function bucketOf(acceptedAt: number): number {
  return Math.floor(acceptedAt / BUCKET_MS);
}

/** A bucket's member in a hook's index (`@<bucket>`) and in the index of all (`@<bucket>:<hookId>`). */
const BUCKET_MEMBER = "@";

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
 * The whole records of a batch (or of a request) that share a retention, in one command: a MULTI
 * of 25 SETs costs the client a command, a promise and a QUEUED reply for each.
 */
const PUT_SCRIPT = `local ttl = ARGV[1]
for i, key in ipairs(KEYS) do redis.call("SET", key, ARGV[i + 1], "PX", ttl) end
return #KEYS`;

/**
 * KEYS[1] an index; KEYS[2i] and KEYS[2i + 1] the two keys its member ARGV[i] stands for (a
 * bucket's records done and pending; a record's key twice): drops each member both of whose keys
 * are gone, in one step with the check, so that a bucket written again in between keeps its member.
 */
const DROP_GONE_SCRIPT = `local dropped = 0
for i = 1, #ARGV do
  if redis.call("EXISTS", KEYS[2 * i], KEYS[2 * i + 1]) == 0 then
    dropped = dropped + redis.call("ZREM", KEYS[1], ARGV[i])
  end
end
return dropped`;

const PUT = new LuaScript("hookwireRecordsPut", undefined, PUT_SCRIPT);
const DROP_GONE = new LuaScript("hookwireRecordsDropGone", undefined, DROP_GONE_SCRIPT);
/** The log's scripts, for `defineScripts` on the connections that commit deliveries. */
export const LOG_SCRIPTS: readonly LuaScript[] = [PUT];

export interface DeliveryLogOptions {
  retention?: RetentionMs;
  /**
   * The keyspace of the entries' claims (partition 0's, see the queue's partitions.ts), whose
   * acceptance times find compact records; this log's own by default.
   */
  claims?: Keyspace;
  /**
   * How long an entry's claim is kept (the idempotency window): a compact record is found by id
   * through its entry's claim only, so a record written when that is past is kept whole (see
   * `#encode`). Absent: claims are taken to outlive every record.
   */
  claimWindowMs?: number;
}

/** A record to write, and the status it had before (undefined: new, or not read). */
interface RecordWrite {
  record: DeliveryRecord;
  previous?: DeliveryStatus | undefined;
}

/**
 * Delivery records. A compact one (see encodeRecord) is a field of its hook's bucket (see
 * BUCKET_MS): a succeeded one in the bucket's hash, which expires with the succeeded retention; a
 * pending one in the bucket's pending hash beside it, which expires with the failed retention (a
 * backlog may wait longer than a day, and its deliveries stay listed and found) and empties as
 * they are attempted. Any other is a JSON string of its own, expiring with the retention of its
 * status, and is indexed on its own. Both kinds are indexed by time (all, per hook) at their
 * bucket's start, a bucket once for both its hashes; dead letters also by status.
 *
 * The hot path writes a batch's records in a few commands (a bucket's fields in one HSET, whole
 * records in one PUT_SCRIPT), in the MULTI of the rest of its batch. Listing walks an index
 * newest first, a score (a bucket of time) at a time, opening its buckets and records and
 * ordering them by acceptance, and drops what expired or does not match.
 */
export class DeliveryLog {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #claims: Keyspace;
  readonly #retention: RetentionMs;
  readonly #claimWindowMs: number;

  constructor(redis: Redis, keys: Keyspace, options: DeliveryLogOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#claims = options.claims ?? keys;
    this.#retention = options.retention ?? DEFAULT_RETENTION_MS;
    this.#claimWindowMs = options.claimWindowMs ?? Number.POSITIVE_INFINITY;
    DROP_GONE.define(redis);
  }

  /** Adds the writes that record new deliveries to `pipeline` (ingest sends it with its queueing). */
  recordAccepted(pipeline: ChainableCommander, records: readonly DeliveryRecord[]): void {
    if (records.length > 0)
      this.#write(
        pipeline,
        records.map((record) => ({ record })),
        true,
      );
  }

  /** Adds the writes of deliveries' new states (each with the status it had before) to `pipeline`. */
  recordUpdates(pipeline: ChainableCommander, updates: readonly RecordWrite[]): void {
    if (updates.length > 0) this.#write(pipeline, updates, false);
  }

  /**
   * Adds to `pipeline` what keeps the compact records of deliveries that wait, not yet attempted
   * (deferred behind an open circuit, say): their buckets' retention starts again.
   */
  keepPending(
    pipeline: ChainableCommander,
    hookId: string,
    deliveries: readonly { acceptedAt: number }[],
  ): void {
    const buckets = new Set(deliveries.map((delivery) => bucketOf(delivery.acceptedAt)));
    for (const bucket of buckets)
      pipeline.pexpire(this.#keys.pendingBucket(hookId, bucket), this.#retention.failed);
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    return (await this.getMany([id])).get(id);
  }

  /**
   * The records of `ids` that are kept: whole ones by their keys, then the others in their
   * buckets, found by their entries' claims (ids whose claim lapsed are not found).
   */
  async getMany(ids: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    if (ids.length === 0) return found;
    const raws = await this.#redis.mget(ids.map((id) => this.#keys.delivery(id)));
    const rest: { id: string; hookId: string; entryId: string }[] = [];
    raws.forEach((raw, i) => {
      const id = ids[i] as string;
      if (raw !== null) found.set(id, decodeRecord(id, raw));
      else {
        const dot = id.indexOf(".");
        if (dot > 0) rest.push({ id, hookId: id.slice(0, dot), entryId: id.slice(dot + 1) });
      }
    });
    if (rest.length === 0) return found;
    const claims = await this.#redis.mget(rest.map(({ entryId }) => this.#claims.entrySeen(entryId)));
    const reads = this.#redis.pipeline();
    const asked: string[] = [];
    rest.forEach(({ id, hookId, entryId }, i) => {
      const claim = claims[i];
      const acceptedAt = claim === null || claim === undefined ? undefined : decodeClaim(claim).acceptedAt;
      if (acceptedAt === undefined) return;
      const bucket = bucketOf(acceptedAt);
      reads.hget(this.#keys.deliveryBucket(hookId, bucket), entryId);
      reads.hget(this.#keys.pendingBucket(hookId, bucket), entryId);
      asked.push(id);
    });
    if (asked.length === 0) return found;
    const kept = (await reads.exec()) ?? [];
    asked.forEach((id, i) => {
      const [doneError, done] = kept[2 * i] ?? [];
      const [waitingError, waiting] = kept[2 * i + 1] ?? [];
      if (doneError) throw doneError;
      if (waitingError) throw waitingError;
      const raw = typeof done === "string" ? done : waiting;
      if (typeof raw === "string") found.set(id, decodeRecord(id, raw));
    });
    return found;
  }

  /**
   * Newest first, `limit` at a time. The cursor is a score and the last record taken at it (see
   * LogPosition): records added to a bucket meanwhile neither shift nor repeat the pages.
   */
  async list(query: DeliveryQuery): Promise<DeliveryPage> {
    const start = query.cursor === undefined ? START : decodeCursor(query.cursor);
    const walked = await this.walk(query, pageLimit(query), start);
    const deliveries = walked.found.map((found) => found.record);
    return walked.more ? { deliveries, nextCursor: encodeCursor(walked.position) } : { deliveries };
  }

  /**
   * Up to `limit` matching records from `from` on, newest first, each with the position just past
   * it; `more` is false once the index ended. Walks the index in windows of members, a score at a
   * time, until the page is full, the index ends or enough was scanned; members whose bucket or
   * record expired are dropped on the way.
   */
  async walk(query: DeliveryQuery, limit: number, from: LogPosition): Promise<WalkedPage> {
    const index =
      query.status === "failed"
        ? this.#keys.deliveriesByStatus("failed")
        : query.hookId !== undefined
          ? this.#keys.deliveriesByHook(query.hookId)
          : this.#keys.deliveriesByTime;
    const found: { record: DeliveryRecord; position: LogPosition }[] = [];
    let position = from;
    let upper = from.score;
    for (let scanned = 0; scanned < 20_000; ) {
      const window = await this.#redis.zrevrangebyscore(index, upper, "-inf", "WITHSCORES", "LIMIT", 0, 200);
      if (window.length === 0) return { found, more: false, position };
      const groups = groupsOf(window);
      if (window.length === 400) {
        // The last score may go on past the window: read it whole, unless it comes again next.
        const last = groups.at(-1) as ScoreGroup;
        if (groups.length > 1) groups.pop();
        else last.members = await this.#redis.zrangebyscore(index, last.score, last.score);
      }
      for (const group of groups) {
        const records = await this.#open(index, group, query.hookId);
        scanned += group.members.length;
        const after = group.score === position.score ? position.after : undefined;
        for (const record of records) {
          if (after !== undefined && !isBefore(record, after)) continue;
          position = { score: group.score, after: sortKeyOf(record) };
          if (!matches(record, query)) continue;
          found.push({ record, position });
          if (found.length === limit) return { found, more: true, position };
        }
        position = { score: `(${group.score}` };
        upper = position.score;
      }
    }
    return { found, more: true, position };
  }

  /**
   * Drops index members past their retention; run now and then by the worker, with the hooks
   * whose own indexes it trims too. Whole records' members go with the longest retention (a
   * failed delivery is listed for its 14 days), buckets' with the succeeded one: each index's
   * members between the two are read once, from where the last trim stopped.
   */
  async trimIndexes(hookIds: readonly string[] = [], now = Date.now()): Promise<void> {
    const oldest = now - Math.max(this.#retention.failed, this.#retention.succeeded);
    const failed = this.#keys.deliveriesByStatus("failed");
    await this.#redis.zremrangebyscore(failed, "-inf", now - this.#retention.failed);
    const indexes = [
      { index: this.#keys.deliveriesByTime, hookId: undefined },
      ...hookIds.map((hookId) => ({ index: this.#keys.deliveriesByHook(hookId), hookId })),
    ];
    for (const { index, hookId } of indexes) {
      // A live hook's index never expires (a hook deleted and made again under its id: see forgetHook).
      if (hookId !== undefined) await this.#redis.persist(index);
      await this.#redis.zremrangebyscore(index, "-inf", oldest);
      await this.#trimBuckets(index, hookId, now - this.#retention.succeeded);
    }
  }

  /**
   * A deleted hook's own index, which no trim reads any more: it expires once its last records
   * may have (the longest retention, and a day for those its deliveries still waiting get), and
   * its trim's mark goes. Its deliveries stay listed among all and found by id meanwhile.
   */
  async forgetHook(hookId: string): Promise<void> {
    const longest = Math.max(this.#retention.failed, this.#retention.succeeded);
    const answers = await this.#redis
      .pipeline()
      .pexpire(this.#keys.deliveriesByHook(hookId), longest + 24 * 3600e3)
      .hdel(this.#keys.deliveriesTrimmed, this.#keys.deliveriesByHook(hookId))
      .exec();
    for (const [error] of answers ?? []) if (error) throw error;
  }

  /**
   * Drops the bucket members of `index` (hook `hookId`'s, or the index of all) scored before
   * `before`, but those of buckets with records still pending: those are kept as long as failed
   * ones, and their members stay until a listing finds their buckets gone, or the longest
   * retention has passed.
   */
  async #trimBuckets(index: string, hookId: string | undefined, before: number): Promise<void> {
    const trimmed = this.#keys.deliveriesTrimmed;
    // Where the last trim stopped: every member scored below it was read.
    const stored = await this.#redis.hget(trimmed, index);
    const from = stored ?? "-inf";
    if (from.startsWith("(") && Number(from.slice(1)) >= before) return;
    let kept = 0;
    for (let rounds = 0; rounds < 20; rounds++) {
      const window = await this.#redis.zrangebyscore(index, from, before, "WITHSCORES", "LIMIT", kept, 1000);
      if (window.length === 0 && stored === null) return; // an index never written: nothing to note
      const buckets: Gone[] = [];
      for (let i = 0; i < window.length; i += 2) {
        const member = window[i] as string;
        const bucket = bucketMember(member, hookId);
        if (bucket === undefined) continue;
        const pending = this.#keys.pendingBucket(bucket.hookId, bucket.bucket);
        buckets.push({ member, keys: [pending, pending] });
      }
      const dropped = buckets.length === 0 ? 0 : await this.#dropGone(index, buckets);
      kept += window.length / 2 - dropped;
      if (window.length < 2000) {
        await this.#redis.hset(trimmed, index, `(${before}`);
        return;
      }
      // Read whole below the window's last score; the next trim may start there.
      await this.#redis.hset(trimmed, index, window[window.length - 1] as string);
    }
  }

  /**
   * The records an index's members at one score stand for, newest first (by acceptance, then id).
   * The score's members are read again in one MULTI with the buckets and records the window
   * named: a record that left its bucket for a key of its own meanwhile (a first attempt failed)
   * is then either still in the bucket read or among the members read, never in neither. Members
   * whose key is gone are dropped from the index.
   */
  async #open(index: string, group: ScoreGroup, hookId: string | undefined): Promise<DeliveryRecord[]> {
    const snapshot = this.#redis.multi();
    snapshot.zrangebyscore(index, group.score, group.score);
    const read = this.#reads(snapshot, group.members, hookId);
    const replies = await snapshot.exec();
    if (replies === null) throw new Error(`reading the delivery index ${index} was aborted`);
    const [indexError, current] = replies[0] ?? [];
    if (indexError) throw indexError;
    const opened = read.open(replies.slice(1));
    // Members that came meanwhile: records that left their buckets, read now (their keys stay).
    const named = new Set(group.members);
    const added = (current as string[]).filter((member) => !named.has(member));
    if (added.length > 0) {
      const later = this.#redis.pipeline();
      const more = this.#reads(later, added, hookId);
      const open = more.open((await later.exec()) ?? []);
      opened.records.push(...open.records);
      opened.gone.push(...open.gone);
    }
    const { records, gone } = opened;
    await this.#dropGone(index, gone);
    return records.sort(newestFirst);
  }

  /** Drops from `index` each member whose keys are all gone (checked again, with the drop); answers how many. */
  async #dropGone(index: string, gone: readonly Gone[]): Promise<number> {
    if (gone.length === 0) return 0;
    const dropped = await DROP_GONE.run(
      this.#redis,
      2 * gone.length + 1,
      index,
      ...gone.flatMap((g) => g.keys),
      ...gone.map((g) => g.member),
    );
    return Number(dropped);
  }

  /**
   * Adds to `commands` the reads of what index members stand for (each bucket whole, the records
   * in one MGET); `open` takes their replies, in order, to the records and the members whose key
   * is gone. A reply that is an error throws: what it stood for is not skipped unseen.
   */
  #reads(
    commands: ChainableCommander,
    members: readonly string[],
    hookId: string | undefined,
  ): {
    open(replies: readonly [Error | null, unknown][]): { records: DeliveryRecord[]; gone: Gone[] };
  } {
    const buckets: { member: string; keys: [string, string]; owner: string }[] = [];
    const ids: string[] = [];
    for (const member of members) {
      const bucket = bucketMember(member, hookId);
      if (bucket === undefined) {
        ids.push(member);
        continue;
      }
      const keys: [string, string] = [
        this.#keys.deliveryBucket(bucket.hookId, bucket.bucket),
        this.#keys.pendingBucket(bucket.hookId, bucket.bucket),
      ];
      for (const key of keys) commands.hgetall(key);
      buckets.push({ member, keys, owner: bucket.hookId });
    }
    if (ids.length > 0) commands.mget(ids.map((id) => this.#keys.delivery(id)));
    const deliveryKey = (id: string) => this.#keys.delivery(id);
    const reply = (replies: readonly [Error | null, unknown][], i: number, what: string): unknown => {
      const [error, value] = replies[i] ?? [new Error(`no reply for ${what}`), null];
      if (error) throw error;
      return value;
    };
    return {
      open(replies) {
        const records: DeliveryRecord[] = [];
        const gone: Gone[] = [];
        buckets.forEach(({ member, keys, owner }, i) => {
          // A record written done and pending both (not by this version) is the done one.
          const fields = {
            ...(reply(replies, 2 * i + 1, keys[1]) as Record<string, string>),
            ...(reply(replies, 2 * i, keys[0]) as Record<string, string>),
          };
          const entries = Object.entries(fields);
          if (entries.length === 0) gone.push({ member, keys });
          for (const [entryId, raw] of entries) records.push(decodeRecord(`${owner}.${entryId}`, raw));
        });
        if (ids.length === 0) return { records, gone };
        const raws = reply(replies, 2 * buckets.length, "the records' MGET") as (string | null)[];
        ids.forEach((id, i) => {
          const raw = raws[i] ?? null;
          const key = deliveryKey(id);
          if (raw === null) gone.push({ member: id, keys: [key, key] });
          else records.push(decodeRecord(id, raw));
        });
        return { records, gone };
      },
    };
  }

  /**
   * The record as kept: compact where it can be (see encodeRecord), unless, written after its
   * acceptance, it could not be found by id, which a compact record is through its entry's claim
   * only: the claim has lapsed already (a failed delivery replayed after the window), or a
   * succeeded record would outlive it where claims are kept at least as long as those records
   * (a delivery that waited for days). A shorter window is the operator's choice of memory over
   * lookups (see the README). A record accepted now is written with its claim; one still waiting
   * when that claim lapses (a backlog of more than the window) is listed, and not found by id.
   */
  #encode(record: DeliveryRecord, accepted: boolean): string {
    const kept = encodeRecord(record);
    if (accepted || !isCompact(kept)) return kept;
    const claimedUntil = record.acceptedAt + this.#claimWindowMs;
    const succeeded = this.#retention.succeeded;
    const outlived =
      claimedUntil <= record.updatedAt ||
      (record.status === "succeeded" &&
        this.#claimWindowMs >= succeeded &&
        claimedUntil < record.updatedAt + succeeded);
    return outlived ? JSON.stringify(record) : kept;
  }

  /**
   * The writes of `writes`, in as few commands as their kinds allow. A delivery written twice in
   * one call keeps its last state. A record that is no longer compact leaves its bucket for a key
   * of its own.
   */
  #write(pipeline: ChainableCommander, writes: readonly RecordWrite[], accepted: boolean): void {
    const last = new Map<string, RecordWrite>();
    for (const write of writes) {
      last.delete(write.record.id);
      last.set(write.record.id, write);
    }
    const buckets = new Map<string, { ttlMs: number; fields: string[] }>();
    const indexed = new Set<string>();
    const leaving = new Map<string, string[]>();
    const leave = (key: string, entryId: string) => {
      const entryIds = leaving.get(key) ?? [];
      if (entryIds.length === 0) leaving.set(key, entryIds);
      entryIds.push(entryId);
    };
    const whole: { record: DeliveryRecord; kept: string }[] = [];
    const wholeKeys: string[] = [];
    const byTime: (string | number)[] = [];
    const byHook = new Map<string, (string | number)[]>();
    const member = (hookId: string, score: number, value: string) => {
      byTime.push(score, value.startsWith(BUCKET_MEMBER) ? `${value}:${hookId}` : value);
      const members = byHook.get(hookId) ?? [];
      if (members.length === 0) byHook.set(hookId, members);
      members.push(score, value);
    };
    for (const { record, previous } of last.values()) {
      const kept = this.#encode(record, accepted);
      const bucket = bucketOf(record.acceptedAt);
      const done = this.#keys.deliveryBucket(record.hookId, bucket);
      const waiting = this.#keys.pendingBucket(record.hookId, bucket);
      if (isCompact(kept)) {
        const pending = record.status === "pending";
        const key = pending ? waiting : done;
        let fields = buckets.get(key);
        if (fields === undefined) {
          fields = { ttlMs: pending ? this.#retention.failed : this.#retention.succeeded, fields: [] };
          buckets.set(key, fields);
        }
        fields.fields.push(record.entryId, kept);
        const bucketId = `${record.hookId}:${bucket}`;
        if (!indexed.has(bucketId)) {
          indexed.add(bucketId);
          member(record.hookId, bucket * BUCKET_MS, `${BUCKET_MEMBER}${bucket}`);
        }
        // Succeeded, it is pending no more.
        if (!pending && !accepted) leave(waiting, record.entryId);
        // Kept whole before (a state read back, not the first; or, accepted, an earlier delivery
        // of the same entry, accepted again once its claim lapsed): that copy goes, and with it
        // its dead-letter member, which a listing drops once it finds the key gone.
        if (previous !== undefined || accepted) wholeKeys.push(this.#keys.delivery(record.id));
      } else {
        whole.push({ record, kept });
        member(record.hookId, bucket * BUCKET_MS, record.id);
        if (!accepted) {
          leave(waiting, record.entryId);
          leave(done, record.entryId);
        }
      }
    }
    for (const [key, { ttlMs, fields }] of buckets) {
      pipeline.hset(key, ...fields);
      pipeline.pexpire(key, ttlMs);
    }
    for (const [key, entryIds] of leaving) pipeline.hdel(key, ...entryIds);
    if (wholeKeys.length > 0) pipeline.del(...wholeKeys);
    this.#putAll(pipeline, whole);
    if (byTime.length > 0) pipeline.zadd(this.#keys.deliveriesByTime, ...byTime);
    for (const [hookId, members] of byHook) pipeline.zadd(this.#keys.deliveriesByHook(hookId), ...members);
    const failedIndex = this.#keys.deliveriesByStatus("failed");
    const failed: (string | number)[] = [];
    const recovered: string[] = [];
    for (const { record, previous } of last.values()) {
      if (record.status === "failed") failed.push(record.updatedAt, record.id);
      else if (previous === "failed") recovered.push(record.id);
    }
    if (failed.length > 0) pipeline.zadd(failedIndex, ...failed);
    if (recovered.length > 0) pipeline.zrem(failedIndex, ...recovered);
  }

  /**
   * The whole records' writes, in their order: one command per run of records that share a
   * retention (a plain SET for a run of one).
   */
  #putAll(pipeline: ChainableCommander, records: readonly { record: DeliveryRecord; kept: string }[]): void {
    let run: { record: DeliveryRecord; kept: string }[] = [];
    let runTtl = 0;
    for (const item of records) {
      const ttlMs =
        item.record.status === "succeeded" || item.record.status === "skipped"
          ? this.#retention.succeeded
          : this.#retention.failed;
      if (ttlMs !== runTtl && run.length > 0) {
        this.#put(pipeline, run, runTtl);
        run = [];
      }
      runTtl = ttlMs;
      run.push(item);
    }
    this.#put(pipeline, run, runTtl);
  }

  #put(
    pipeline: ChainableCommander,
    records: readonly { record: DeliveryRecord; kept: string }[],
    ttlMs: number,
  ): void {
    if (records.length === 0) return;
    if (records.length === 1) {
      const [{ record, kept }] = records as [{ record: DeliveryRecord; kept: string }];
      pipeline.set(this.#keys.delivery(record.id), kept, "PX", ttlMs);
      return;
    }
    const keys: string[] = [];
    const values: string[] = [];
    for (const { record, kept } of records) {
      keys.push(this.#keys.delivery(record.id));
      values.push(kept);
    }
    PUT.add(pipeline, keys.length, ...keys, ttlMs, ...values);
  }
}
/**
 * Where a walk of an index stands: a score, and the sort key of the last record taken at it
 * (none: nothing taken at it yet). A score `(s` is one passed whole.
 */
export interface LogPosition {
  score: string;
  after?: string;
}

export interface WalkedPage {
  found: { record: DeliveryRecord; position: LogPosition }[];
  more: boolean;
  position: LogPosition;
}

/** The newest end of an index. */
export const START: LogPosition = { score: "+inf" };

/** The members of an index at one score. */
interface ScoreGroup {
  score: string;
  members: string[];
}

/** An index member whose keys were found gone: the keys (see DROP_GONE_SCRIPT) to check again. */
interface Gone {
  member: string;
  keys: [string, string];
}

/**
 * The hook and bucket an index member stands for (`@<bucket>:<hookId>` in the index of all,
 * `@<bucket>` in hook `hookId`'s); undefined for a record's member (its id).
 */
function bucketMember(
  member: string,
  hookId: string | undefined,
): { hookId: string; bucket: number } | undefined {
  if (!member.startsWith(BUCKET_MEMBER)) return undefined;
  const colon = member.indexOf(":");
  return {
    hookId: colon < 0 ? (hookId ?? "") : member.slice(colon + 1),
    bucket: Number(member.slice(1, colon < 0 ? undefined : colon)),
  };
}

/** A window of `member, score, ...` as runs of one score, in their order. */
function groupsOf(window: readonly string[]): ScoreGroup[] {
  const groups: ScoreGroup[] = [];
  for (let i = 0; i < window.length; i += 2) {
    const score = window[i + 1] as string;
    const group = groups.at(-1);
    if (group?.score === score) group.members.push(window[i] as string);
    else groups.push({ score, members: [window[i] as string] });
  }
  return groups;
}

/** A record's place in a listing: its acceptance time (padded, to compare as text), then its id. */
function sortKeyOf(record: DeliveryRecord): string {
  return `${String(record.acceptedAt).padStart(15, "0")}:${record.id}`;
}

/** Newest first: later acceptance first, then the greater id. */
export function newestFirst(a: DeliveryRecord, b: DeliveryRecord): number {
  return b.acceptedAt - a.acceptedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Whether `record` comes after the record of sort key `after` in a listing (newest first). */
function isBefore(record: DeliveryRecord, after: string): boolean {
  return sortKeyOf(record) < after;
}

function matches(record: DeliveryRecord, query: DeliveryQuery): boolean {
  return (
    (query.hookId === undefined || record.hookId === query.hookId) &&
    (query.entryId === undefined || record.entryId === query.entryId) &&
    (query.status === undefined || record.status === query.status)
  );
}

export function pageLimit(query: DeliveryQuery): number {
  return Math.min(Math.max(query.limit ?? 50, 1), 500);
}

/** A position as `score` or `score/after` (after in base64url), the text a cursor is made of. */
export function positionText(position: LogPosition): string {
  return position.after === undefined
    ? position.score
    : `${position.score}/${Buffer.from(position.after, "utf8").toString("base64url")}`;
}

/** The position of `positionText`; undefined for anything else. */
export function positionOf(text: string): LogPosition | undefined {
  const slash = text.indexOf("/");
  const score = slash < 0 ? text : text.slice(0, slash);
  const bare = score.startsWith("(") ? score.slice(1) : score;
  if (score !== START.score && (bare === "" || !Number.isFinite(Number(bare)))) return undefined;
  if (slash < 0) return { score };
  if (score.startsWith("(")) return undefined;
  const after = Buffer.from(text.slice(slash + 1), "base64url").toString("utf8");
  return after === "" ? undefined : { score, after };
}

function encodeCursor(position: LogPosition): string {
  return Buffer.from(positionText(position), "utf8").toString("base64url");
}

/** A cursor that is not one of ours starts from the newest end. */
function decodeCursor(cursor: string): LogPosition {
  return positionOf(Buffer.from(cursor, "base64url").toString("utf8")) ?? START;
}
