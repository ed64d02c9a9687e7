/**
 * Ordered delivery: the sequence of a hook whose `delivery.ordering` is "fifo".
 *
 * Such a hook's batches are not queued in BullMQ: the one write path (the outbox's `stage`)
 * puts each of their deliveries into the hook's sequence instead, in the same MULTI as their
 * records. A sequence is sorted by the entry's own time (`JobDelivery.at`), ties by delivery id
 * (a sorted set orders equal scores by member): what waits goes out in the entries' order, and an
 * entry whose 202 came before another was posted is always in the sequence before it. A late
 * entry of an earlier time goes before what still waits (not before what was sent already).
 *
 * Workers take a sequence's head one at a time under the sequence's lock (`claim`): a token with
 * a lease, renewed while the attempt is in flight (`renew`). The head leaves only with its
 * outcome (`addAdvance`, in the outcome's MULTI, and only while the token still holds the lock),
 * so a worker that dies mid-attempt leaves the head where it was: its lock lapses and another
 * worker sends it again (at least once), never two at a time. The due set says when each hook's
 * sequence may be taken next: now, at a retry's time, or when a lock lapses (`claim` moves the
 * hook's due time to its lease's end), so a lost worker's sequence needs no sweeper.
 *
 * A head that runs out of attempts is held or skipped (`delivery.onExhausted`): held, the hook's
 * health says which delivery holds it and why (fields `held`, `heldReason`, `heldAt`), and
 * nothing of the hook moves until an operator retries the head (its delivery staged again) or
 * skips it (`skipHeld`).
 *
 * Keys (names.ts): `sequence(hookId)` sorted set (member delivery id, score the entry's time),
 * `sequenceData(hookId)` hash (field delivery id, value `encodeSequenced`), `sequenceLock(hookId)`
 * (the token), `sequencesDue` sorted set (member hook id, score epoch ms), all in the hook's
 * partition.
 */
import type { ChainableCommander, Redis } from "ioredis";
import type { JobDelivery } from "./job";
import { LuaScript } from "./lua-script";
import type { Keyspace } from "./names";
import type { OutboxBatch } from "./outbox";

/** The one codec of a sequenced delivery. */
export function encodeSequenced(delivery: JobDelivery): string {
  return JSON.stringify(delivery);
}

export function decodeSequenced(raw: string): JobDelivery {
  return JSON.parse(raw) as JobDelivery;
}

/** A delivery's place in its hook's sequence: the entry's time, or its acceptance before `at` was kept. */
function scoreOf(delivery: JobDelivery): number {
  return delivery.at ?? delivery.acceptedAt;
}

const HELD_FIELDS = ["held", "heldReason", "heldAt"] as const;

/** Which delivery holds an ordered hook, why and since when (ISO), as the API shows it. */
export interface HeldHead {
  deliveryId: string;
  reason: string;
  since: string;
}

/**
 * The one reading of the held fields of a hook's health hash (written by the scripts below):
 * from its fields as HGETALL or HMGET answer them; undefined when nothing holds the hook.
 */
export function heldOf(fields: {
  held?: string | null;
  heldReason?: string | null;
  heldAt?: string | null;
}): HeldHead | undefined {
  if (!fields.held) return undefined;
  const at = Number(fields.heldAt ?? 0);
  return {
    deliveryId: fields.held,
    reason: fields.heldReason ?? "",
    since: new Date(Number.isFinite(at) ? at : 0).toISOString(),
  };
}

/**
 * KEYS: sequence, data, due, health. ARGV: hook id, now, then (id, score, value) per delivery.
 * A delivery staged again while it holds the sequence (a retry of the held head) lets it go on.
 */
const STAGE = new LuaScript(
  "hookwireSequenceStage",
  4,
  `
local held = redis.call("HGET", KEYS[4], "held")
local resumed = false
for i = 3, #ARGV, 3 do
  redis.call("ZADD", KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call("HSET", KEYS[2], ARGV[i], ARGV[i + 2])
  if held == ARGV[i] then resumed = true end
end
if resumed then
  redis.call("HDEL", KEYS[4], "${HELD_FIELDS.join('", "')}")
  redis.call("ZADD", KEYS[3], ARGV[2], ARGV[1])
else
  redis.call("ZADD", KEYS[3], "NX", ARGV[2], ARGV[1])
end
return 1
`,
);

/**
 * KEYS: sequence, data, due, lock, health. ARGV: hook id, token, now, lease ms.
 * Answers {id, value} of the head now locked by `token`, or nil (locked elsewhere, held, empty).
 */
const CLAIM = new LuaScript(
  "hookwireSequenceClaim",
  5,
  `
local now = tonumber(ARGV[3])
if redis.call("HEXISTS", KEYS[5], "held") == 1 then
  redis.call("ZREM", KEYS[3], ARGV[1])
  return nil
end
local ttl = redis.call("PTTL", KEYS[4])
if ttl > 0 then
  redis.call("ZADD", KEYS[3], now + ttl, ARGV[1])
  return nil
end
local head = redis.call("ZRANGE", KEYS[1], 0, 0)[1]
if not head then
  redis.call("ZREM", KEYS[3], ARGV[1])
  return nil
end
local value = redis.call("HGET", KEYS[2], head)
if not value then
  redis.call("ZREM", KEYS[1], head)
  redis.call("ZADD", KEYS[3], now, ARGV[1])
  return nil
end
redis.call("SET", KEYS[4], ARGV[2], "PX", ARGV[4])
redis.call("ZADD", KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
return {head, value}
`,
);

/** KEYS: lock, due. ARGV: hook id, token, now, lease ms. 1 while the token holds the lock. */
const RENEW = new LuaScript(
  "hookwireSequenceRenew",
  2,
  `
if redis.call("GET", KEYS[1]) ~= ARGV[2] then return 0 end
redis.call("PEXPIRE", KEYS[1], ARGV[4])
redis.call("ZADD", KEYS[2], "XX", tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
return 1
`,
);

/**
 * KEYS: sequence, data, due, lock, health. ARGV: hook id, token, step, delivery id, at, value,
 * reason, now. Steps: "pop" (the head is done: the next is due at `at`), "retry" (the head, as
 * `value`, is due again at `at`), "release" (not attempted: due again at `at`), "hold" (the head,
 * as `value`, holds the sequence for `reason`). Nothing happens unless the token holds the lock.
 */
const ADVANCE = new LuaScript(
  "hookwireSequenceAdvance",
  5,
  `
if redis.call("GET", KEYS[4]) ~= ARGV[2] then return 0 end
redis.call("DEL", KEYS[4])
local step, id = ARGV[3], ARGV[4]
if step == "pop" then
  redis.call("ZREM", KEYS[1], id)
  redis.call("HDEL", KEYS[2], id)
  if redis.call("ZCARD", KEYS[1]) > 0 then
    redis.call("ZADD", KEYS[3], ARGV[5], ARGV[1])
  else
    redis.call("ZREM", KEYS[3], ARGV[1])
  end
  return 1
end
if (step == "retry" or step == "hold") and redis.call("HEXISTS", KEYS[2], id) == 1 then
  redis.call("HSET", KEYS[2], id, ARGV[6])
end
if step == "hold" then
  redis.call("HSET", KEYS[5], "held", id, "heldReason", ARGV[7], "heldAt", ARGV[8])
  redis.call("ZREM", KEYS[3], ARGV[1])
else
  redis.call("ZADD", KEYS[3], ARGV[5], ARGV[1])
end
return 1
`,
);

/**
 * KEYS: sequence, data, due, health. ARGV: hook id, now. Takes the held delivery out of the
 * sequence and lets the hook go on; answers its id, or nil when the hook is not held.
 */
const SKIP_HELD = new LuaScript(
  "hookwireSequenceSkipHeld",
  4,
  `
local id = redis.call("HGET", KEYS[4], "held")
if not id then return nil end
redis.call("ZREM", KEYS[1], id)
redis.call("HDEL", KEYS[2], id)
redis.call("HDEL", KEYS[4], "${HELD_FIELDS.join('", "')}")
redis.call("ZADD", KEYS[3], ARGV[2], ARGV[1])
return id
`,
);

/**
 * KEYS: sequence, due, health. ARGV: hook id, now. The hook was deleted: whatever holds it is let
 * go, and what waits is due now (the workers settle it as "the hook was deleted").
 */
const LET_GO = new LuaScript(
  "hookwireSequenceLetGo",
  3,
  `
redis.call("HDEL", KEYS[3], "${HELD_FIELDS.join('", "')}")
if redis.call("ZCARD", KEYS[1]) > 0 then redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1]) end
return 1
`,
);

export const SEQUENCE_SCRIPTS: readonly LuaScript[] = [STAGE, CLAIM, RENEW, ADVANCE, SKIP_HELD, LET_GO];

/** What becomes of a sequence's head with its outcome (see ADVANCE). */
export type SequenceStep =
  | { kind: "pop"; nextAt: number }
  | { kind: "retry"; delivery: JobDelivery; at: number }
  | { kind: "release"; at: number }
  | { kind: "hold"; delivery: JobDelivery; reason: string };

/** What a sequence holds now, for the API. */
export interface SequenceView {
  pending: number;
  head?: JobDelivery;
  held?: HeldHead;
}

export class Sequences {
  readonly #keys: Keyspace;
  readonly #leaseMs: number;

  /** `leaseMs`: how long a head may go unrenewed before another worker takes the sequence. */
  constructor(keys: Keyspace, leaseMs: number) {
    this.#keys = keys;
    this.#leaseMs = leaseMs;
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  #keysOf(hookId: string, withLock: boolean): string[] {
    const keys = this.#keys;
    const all = [keys.sequence(hookId), keys.sequenceData(hookId), keys.sequencesDue];
    if (withLock) all.push(keys.sequenceLock(hookId));
    all.push(keys.hookHealth(hookId));
    return all;
  }

  /** Adds the writes that put an ordered batch's deliveries into their hook's sequence to `tx`. */
  stage(tx: ChainableCommander, batch: OutboxBatch, now: number): void {
    const { hookId, deliveries } = batch.data;
    if (deliveries.length === 0) return;
    const args: (string | number)[] = [hookId, Math.max(now, batch.notBefore ?? 0)];
    for (const delivery of deliveries) args.push(delivery.id, scoreOf(delivery), encodeSequenced(delivery));
    STAGE.add(tx, ...this.#keysOf(hookId, false), ...args);
  }

  /** Hooks whose sequences are due by `now`, oldest due first. */
  async due(redis: Redis, now: number, limit: number): Promise<string[]> {
    return redis.zrangebyscore(this.#keys.sequencesDue, "-inf", now, "LIMIT", 0, limit);
  }

  /** Locks the hook's sequence for `token` and answers its head, or undefined (see CLAIM). */
  async claim(
    redis: Redis,
    hookId: string,
    token: string,
    now = Date.now(),
  ): Promise<JobDelivery | undefined> {
    const answer = (await CLAIM.run(
      redis,
      ...this.#keysOf(hookId, true),
      hookId,
      token,
      now,
      this.#leaseMs,
    )) as [string, string] | null;
    return answer === null ? undefined : decodeSequenced(answer[1]);
  }

  /** Renews the token's lock; false when the token no longer holds it. */
  async renew(redis: Redis, hookId: string, token: string, now = Date.now()): Promise<boolean> {
    const keys = this.#keys;
    const answer = await RENEW.run(
      redis,
      keys.sequenceLock(hookId),
      keys.sequencesDue,
      hookId,
      token,
      now,
      this.#leaseMs,
    );
    return answer === 1;
  }

  /** Adds the head's step (see SequenceStep) to `tx`, the MULTI of its outcome. */
  addAdvance(
    tx: ChainableCommander,
    hookId: string,
    token: string,
    deliveryId: string,
    step: SequenceStep,
    now: number,
  ): void {
    const at = step.kind === "pop" ? step.nextAt : step.kind === "hold" ? now : step.at;
    const value = step.kind === "retry" || step.kind === "hold" ? encodeSequenced(step.delivery) : "";
    const reason = step.kind === "hold" ? step.reason : "";
    ADVANCE.add(
      tx,
      ...this.#keysOf(hookId, true),
      hookId,
      token,
      step.kind,
      deliveryId,
      at,
      value,
      reason,
      now,
    );
  }

  /**
   * Skips a held hook's head: out of the sequence, and the next follows. Answers its id, or
   * undefined when the hook is not held. (A retry of the head is its delivery staged again.)
   */
  async skipHeld(redis: Redis, hookId: string, now = Date.now()): Promise<string | undefined> {
    const answer = await SKIP_HELD.run(redis, ...this.#keysOf(hookId, false), hookId, now);
    return typeof answer === "string" ? answer : undefined;
  }

  /** After the hook is deleted: nothing holds its sequence, and what waits in it is due now. */
  async letGo(redis: Redis, hookId: string, now = Date.now()): Promise<void> {
    const keys = this.#keys;
    await LET_GO.run(redis, keys.sequence(hookId), keys.sequencesDue, keys.hookHealth(hookId), hookId, now);
  }

  /** The delivery that holds the hook, or undefined. */
  async heldId(redis: Redis, hookId: string): Promise<string | undefined> {
    return (await redis.hget(this.#keys.hookHealth(hookId), "held")) ?? undefined;
  }

  /** Adds to `pipeline` the reading of how many deliveries wait in the hook's sequence (ZCARD). */
  addLength(pipeline: ChainableCommander, hookId: string): void {
    pipeline.zcard(this.#keys.sequence(hookId));
  }

  /** How many deliveries wait in the hook's sequence, its head, and whether it is held. */
  async view(redis: Redis, hookId: string): Promise<SequenceView> {
    const keys = this.#keys;
    const pipeline = redis.pipeline();
    pipeline.zcard(keys.sequence(hookId));
    pipeline.zrange(keys.sequence(hookId), 0, 0);
    pipeline.hmget(keys.hookHealth(hookId), ...HELD_FIELDS);
    const answers = (await pipeline.exec()) ?? [];
    for (const [error] of answers) if (error) throw error;
    const pending = Number(answers[0]?.[1] ?? 0);
    const [headId] = (answers[1]?.[1] as string[] | undefined) ?? [];
    const [held, heldReason, heldAt] = (answers[2]?.[1] as (string | null)[] | undefined) ?? [];
    const view: SequenceView = { pending };
    if (headId !== undefined) {
      const raw = await redis.hget(keys.sequenceData(hookId), headId);
      if (raw !== null) view.head = decodeSequenced(raw);
    }
    const holding = heldOf({ held, heldReason, heldAt });
    if (holding !== undefined) view.held = holding;
    return view;
  }
}
