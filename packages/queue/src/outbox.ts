/**
 * The outbox: the durable half of "queued".
 *
 * A batch of deliveries is written into the outbox in the same MULTI as its delivery records
 * (`stage`), and only then relayed into BullMQ as a job whose id is the batch's id (`relay`). It
 * stays there until the worker that ran it commits the outcomes, again in one MULTI with the
 * records (`settle`). So at every moment each pending delivery is in exactly one committed batch,
 * and that batch is in one of three places: queued in BullMQ (waiting, delayed or active), held
 * in the memory of a live worker that renews its lease (`renew`), or past its lease, where any
 * worker's sweeper takes it over and relays it again (`sweep`). A crash anywhere between two of
 * these steps leaves a batch that is sent again, never one that is forgotten.
 *
 * BullMQ is the scheduler, not the record: a job whose worker died is found by BullMQ's stalled
 * check as before, and a job BullMQ lost or dropped (failed for good, removed by hand, never
 * added because the relay died) is found here.
 *
 * The job of a batch is the batch's own (its id is the batch's), or, for small batches of one
 * ingest request, one job that names them all (`job` in the value: see RequestJobData). A batch
 * of such a job that its hook cannot take yet goes back to the queue as a job of its own; so a
 * batch is queued while either job lives.
 *
 * Keys (see names.ts): `outbox` hash, field = batch id, value = `encodeBatch`; `outboxDue`
 * sorted set, member = batch id, score = epoch ms after which a sweeper may take it.
 */

import type { Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import { type BatchRef, DELIVERY_JOB_NAME, type DeliveryBatch, type DeliveryJobData } from "./job";
import { LuaScript } from "./lua-script";
import type { Keyspace } from "./names";
import { Sequences } from "./sequence";

/** One batch of deliveries of one hook, as committed: BullMQ's job id is `id`. */
export interface OutboxBatch {
  id: string;
  data: DeliveryBatch;
  /** Not to be attempted before (epoch ms): a retry's schedule, a circuit's next probe. */
  notBefore?: number;
  /** The job of many batches that queues this one (see RequestJobData); absent: its own. */
  job?: string;
  /** Its hook's deliveries go one at a time, in order: staged into its sequence, not queued. */
  ordered?: boolean;
}

/**
 * The one codec of an outbox value: the batch as JSON without its deliveries' bodies (their
 * lengths in `bodies`, -1 for a delivery without one), then a newline and the bodies as they are,
 * one after the other. A rendered body is JSON text itself: inside a JSON string every quote of it
 * was escaped on the way in and unescaped on the way out, for every delivery. `job` comes first,
 * so that the sweep script reads it with a pattern instead of decoding the whole value; job ids
 * never hold a quote. A value without the newline (JSON.stringify writes none), written before
 * bodies were kept raw, is JSON whole.
 */
export function encodeBatch(batch: OutboxBatch): string {
  let bodies = "";
  const lengths: number[] = [];
  const deliveries = batch.data.deliveries.map((delivery) => {
    if (delivery.body === undefined) {
      lengths.push(-1);
      return delivery;
    }
    bodies += delivery.body;
    lengths.push(delivery.body.length);
    return { ...delivery, body: undefined };
  });
  const head = JSON.stringify({
    job: batch.job ?? "",
    notBefore: batch.notBefore ?? 0,
    data: { ...batch.data, deliveries },
    bodies: lengths,
  });
  return `${head}\n${bodies}`;
}

export function decodeBatch(id: string, raw: string): OutboxBatch {
  const end = raw.indexOf("\n");
  const { job, notBefore, data, bodies } = JSON.parse(end < 0 ? raw : raw.slice(0, end)) as {
    job?: string;
    notBefore: number;
    data: DeliveryBatch;
    bodies?: number[];
  };
  if (bodies !== undefined) {
    let at = end + 1;
    data.deliveries.forEach((delivery, i) => {
      const length = bodies[i] ?? -1;
      if (length < 0) return;
      delivery.body = raw.slice(at, at + length);
      at += length;
    });
  }
  const batch: OutboxBatch = { id, data };
  if (notBefore > 0) batch.notBefore = notBefore;
  if (job) batch.job = job;
  return batch;
}

/** The job id that queues a batch: the job of many that names it, or its own. */
export function jobIdOf(batch: OutboxBatch): string {
  return batch.job ?? batch.id;
}

/**
 * A job that throws is retried, never dropped: BullMQ's attempts are effectively unbounded and
 * spaced by `jobBackoffMs`. (A delivery's own attempts are counted in its JobDelivery, not here:
 * these are attempts at running the job at all, e.g. a worker that cannot decrypt a hook.)
 */
export const JOB_OPTIONS = {
  attempts: 1_000_000,
  backoff: { type: "hookwire" },
} as const;

/** Delay before a thrown job runs again: 1 s doubling to 5 min, with ±20 % jitter. */
export function jobBackoffMs(attemptsMade: number, random = Math.random): number {
  const base = Math.min(300e3, 1_000 * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 20));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * KEYS[1] outboxDue, KEYS[2] outbox. ARGV[1] now (ms), ARGV[2] lease (ms), ARGV[3] how many at
 * most, ARGV[4] the prefix of BullMQ's job hashes (`<prefix>:deliveries:`).
 * For each batch past its due time: gone from the outbox → its stray due entry is dropped; a job
 * that queues it alive (its own, or the job of many its value names; hash present, not finished)
 * → due again a lease after that job may run; else (no job, or finished ones) → due again in a
 * lease (so that no other sweeper takes it too) and returned as {id, value, finished 0|1} for the
 * caller to relay again; `finished`: the job it will be relayed as (the one its value names, else
 * its own) is finished, and must be removed first.
 */
const SWEEP_SCRIPT = `local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now, "LIMIT", 0, tonumber(ARGV[3]))
local taken = {}
local function alive(jobId)
  local job = redis.call("HMGET", ARGV[4] .. jobId, "timestamp", "delay", "finishedOn")
  if job[1] and not job[3] then return tonumber(job[1]) + (tonumber(job[2]) or 0), false end
  return nil, job[3] and true or false
end
for _, id in ipairs(ids) do
  local value = redis.call("HGET", KEYS[2], id)
  if not value then
    redis.call("ZREM", KEYS[1], id)
  else
    local runAt, finished = alive(id)
    local group = string.match(value, '^{"job":"([^"]+)"')
    if not runAt and group then runAt, finished = alive(group) end
    if runAt then
      redis.call("ZADD", KEYS[1], math.max(now, runAt) + lease, id)
    else
      redis.call("ZADD", KEYS[1], now + lease, id)
      taken[#taken + 1] = id
      taken[#taken + 1] = value
      taken[#taken + 1] = finished and 1 or 0
    end
  end
end
return {#ids, taken}`;

/**
 * KEYS[1] outboxDue, KEYS[2] outbox. ARGV[1] the new due time, ARGV[2] the batch id.
 * When the batch is in the outbox: renews its lease and returns its value; else returns false.
 */
const HOLD_SCRIPT = `local value = redis.call("HGET", KEYS[2], ARGV[2])
if value then redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2]) end
return value`;

const SWEEP = new LuaScript("hookwireOutboxSweep", 2, SWEEP_SCRIPT);
const HOLD = new LuaScript("hookwireOutboxHold", 2, HOLD_SCRIPT);
/** The outbox's scripts, for `defineScripts` on the connections that hold and sweep. */
export const OUTBOX_SCRIPTS: readonly LuaScript[] = [SWEEP, HOLD];

/** The batch a hold answered (see `addHold`), or undefined when it was not in the outbox. */
export function held(id: string, answer: unknown): OutboxBatch | undefined {
  return typeof answer === "string" ? decodeBatch(id, answer) : undefined;
}

export interface SweepResult {
  /** Batches past their due time that were looked at. */
  examined: number;
  /** Batches found with nothing queued behind them, relayed again. */
  requeued: OutboxBatch[];
}

export class Outbox {
  readonly #keys: Keyspace;
  readonly #queue: Queue<DeliveryJobData>;
  readonly #leaseMs: number;
  readonly #relays = new Set<Promise<void>>();

  /** `leaseMs`: how long a batch may go unrenewed (unqueued, unheld) before a sweeper takes it. */
  constructor(keys: Keyspace, queue: Queue<DeliveryJobData>, leaseMs: number) {
    this.#keys = keys;
    this.#queue = queue;
    this.#leaseMs = leaseMs;
    this.sequences = new Sequences(keys, leaseMs);
  }

  /** The ordered hooks' sequences, where their batches go instead (see sequence.ts). */
  readonly sequences: Sequences;

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /**
   * Adds the writes that commit `batches` to `tx` (a MULTI, with the batches' records): into the
   * outbox, or an ordered batch into its hook's sequence.
   */
  stage(tx: ChainableCommander, batches: readonly OutboxBatch[], now: number): void {
    if (batches.length === 0) return;
    const values: string[] = [];
    const due: (string | number)[] = [];
    for (const batch of batches) {
      if (batch.ordered) {
        this.sequences.stage(tx, batch, now);
        continue;
      }
      values.push(batch.id, encodeBatch(batch));
      due.push(Math.max(now, batch.notBefore ?? 0) + this.#leaseMs, batch.id);
    }
    if (values.length === 0) return;
    tx.hset(this.#keys.outbox, ...values);
    tx.zadd(this.#keys.outboxDue, ...due);
  }

  /** Adds the writes that remove settled batches to `tx` (a MULTI, with their outcomes). */
  settle(tx: ChainableCommander, ids: readonly string[]): void {
    if (ids.length === 0) return;
    tx.hdel(this.#keys.outbox, ...ids);
    tx.zrem(this.#keys.outboxDue, ...ids);
  }

  /**
   * Queues committed batches in BullMQ: each as the job of its id, or, those that name a job of
   * many, as that job (so a relay repeated after a crash adds nothing while the first job lives).
   * Tracked until done, for `drain`. A failure is left to the sweepers: the batches are
   * committed, and due once their lease runs out.
   */
  relay(batches: readonly OutboxBatch[], now = Date.now()): Promise<void> {
    if (batches.length === 0) return Promise.resolve();
    const jobs: QueuedJob[] = [];
    const groups = new Map<string, { refs: BatchRef[]; notBefore: number }>();
    for (const batch of batches) {
      // Its sequence is its queue: the workers take it from there.
      if (batch.ordered) continue;
      const size = batch.data.deliveries.length;
      // Queued at once: its lease (staged, or set by a sweep, at `now`) lasts until now + lease.
      const leased = (batch.notBefore ?? 0) <= now ? { leasedUntil: now + this.#leaseMs } : {};
      if (batch.job === undefined) {
        jobs.push(jobOf(batch.id, { hookId: batch.data.hookId, size, ...leased }, batch.notBefore ?? 0, now));
        continue;
      }
      let group = groups.get(batch.job);
      if (group === undefined) {
        group = { refs: [], notBefore: batch.notBefore ?? 0 };
        groups.set(batch.job, group);
      }
      group.refs.push({ id: batch.id, hookId: batch.data.hookId, size, ...leased });
      group.notBefore = Math.min(group.notBefore, batch.notBefore ?? 0);
    }
    for (const [jobId, group] of groups)
      jobs.push(jobOf(jobId, { batches: group.refs }, group.notBefore, now));
    return jobs.length === 0 ? Promise.resolve() : this.#add(jobs);
  }

  /**
   * Sends batches of a job of many back to the queue, each as a job of its own due at its
   * `notBefore` (its hook could not take it when the job ran). Rejects when Redis does not take
   * them: the job of many is then run again.
   */
  requeue(back: readonly { ref: BatchRef; notBefore: number }[], now = Date.now()): Promise<void> {
    if (back.length === 0) return Promise.resolve();
    return this.#add(
      back.map(({ ref, notBefore }) =>
        jobOf(
          ref.id,
          {
            hookId: ref.hookId,
            size: ref.size,
            ...(ref.leasedUntil === undefined ? {} : { leasedUntil: ref.leasedUntil }),
          },
          notBefore,
          now,
        ),
      ),
    );
  }

  #add(jobs: QueuedJob[]): Promise<void> {
    const added = this.#queue.addBulk(jobs).then(() => undefined);
    this.#relays.add(added);
    void added.then(
      () => this.#relays.delete(added),
      () => this.#relays.delete(added),
    );
    return added;
  }

  /** Waits for the relays under way (a service stopping). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#relays]);
  }

  /**
   * A worker takes a batch into its memory: renews its lease, and answers the batch, or
   * undefined when it is not in the outbox (settled already, or queued before the outbox).
   */
  async hold(redis: Redis, id: string, now = Date.now()): Promise<OutboxBatch | undefined> {
    const pipeline = redis.pipeline();
    this.addHold(pipeline, id, now);
    const [[error, value] = [null, null]] = (await pipeline.exec()) ?? [];
    if (error) throw error;
    return held(id, value);
  }

  /** `hold` as a command of a pipeline the caller sends; read its answer with `held`. */
  addHold(pipeline: ChainableCommander, id: string, now = Date.now()): void {
    HOLD.add(pipeline, this.#keys.outboxDue, this.#keys.outbox, now + this.#leaseMs, id);
  }

  /** A batch as it is in the outbox now, without holding it (undefined: not there). */
  async read(redis: Redis, id: string): Promise<OutboxBatch | undefined> {
    const raw = await redis.hget(this.#keys.outbox, id);
    return raw === null ? undefined : decodeBatch(id, raw);
  }

  /** Renews the leases of the batches a worker holds (its heartbeat); one command. */
  async renew(redis: Redis, ids: readonly string[], now = Date.now()): Promise<void> {
    const pipeline = redis.pipeline();
    this.addRenewal(pipeline, ids, now);
    await pipeline.exec();
  }

  /** `renew` as a command of a pipeline the caller sends (the worker's heartbeat). */
  addRenewal(pipeline: ChainableCommander, ids: readonly string[], now = Date.now()): void {
    if (ids.length === 0) return;
    const due = now + this.#leaseMs;
    const members: (string | number)[] = [];
    for (const id of ids) members.push(due, id);
    pipeline.zadd(this.#keys.outboxDue, "XX", ...members);
  }

  /**
   * Finds batches past their lease with nothing queued behind them and relays them again, as the
   * job they were queued by; a finished BullMQ job of that id (failed for good) is removed first
   * so the id is free.
   * `holds`: batches the calling process has in hand itself (their lease lapsed while Redis was
   * away, and is about to be renewed), left alone.
   */
  async sweep(
    redis: Redis,
    holds: (id: string) => boolean = () => false,
    now = Date.now(),
    limit = 500,
  ): Promise<SweepResult> {
    const [examined, flat] = (await SWEEP.run(
      redis,
      this.#keys.outboxDue,
      this.#keys.outbox,
      now,
      this.#leaseMs,
      limit,
      this.#queue.toKey(""),
    )) as [number, (string | number)[]];
    const requeued: OutboxBatch[] = [];
    const finished = new Set<string>();
    for (let i = 0; i < flat.length; i += 3) {
      const id = String(flat[i]);
      if (holds(id)) continue;
      const batch = decodeBatch(id, String(flat[i + 1]));
      requeued.push(batch);
      if (Number(flat[i + 2]) === 1) finished.add(jobIdOf(batch));
    }
    for (const id of finished) await this.#queue.remove(id);
    await this.relay(requeued, now);
    return { examined, requeued };
  }
}

type QueuedJob = Parameters<Queue<DeliveryJobData>["addBulk"]>[0][number];

function jobOf(jobId: string, data: DeliveryJobData, notBefore: number, now: number): QueuedJob {
  return {
    name: DELIVERY_JOB_NAME,
    data,
    opts: { jobId, delay: Math.max(0, notBefore - now), ...JOB_OPTIONS },
  };
}
