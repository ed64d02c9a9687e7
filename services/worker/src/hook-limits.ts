/**
 * A hook's limits, shared by every worker through Redis, so that N workers act as one: at most
 * `concurrency` requests in flight to the hook in all (slots held as leases per worker, so a
 * killed worker's slots come back within a lease), at most `ratePerSecond` started a second in
 * all (one token bucket, one second's worth of burst), and the deliveries each worker holds
 * (backlog admission counts the others' too).
 *
 * Nothing here costs a round trip of its own: the take rides in the pipeline of the job's
 * hand-over (beside the outbox's hold), the release in the MULTI of a batch's outcomes, the
 * renewal in the worker's heartbeat. The one exception is `retake`, after a take that raced this
 * worker's own release.
 *
 * A worker keeps a hook's slots while it holds batches of the hook, so that a steady stream does
 * not pay a take and a release per batch. But a busy hook always has batches in the worker that
 * took its slots first, and the jobs of that hook that other workers fetched came back refused,
 * each time later (a backoff up to 2 s): two workers on one machine drained 10 hooks at 5 000 to
 * 11 000 deliveries a second where one alone did about 17 000; with shares, the median of
 * `npm run compare` (`BENCH_WORKERS=2`, 4 rounds) went from 5 400 to 10 800 a second (on two
 * cores, two workers cost more CPU apiece than one). So a worker refused for want of slots says
 * so (`<workerId>:wants`, for WANT_MS), and while others want, a worker holds at most its share
 * of the cap (the cap over the workers that hold or want, rounded up): the takes grant no more
 * than that, and answer it; as each batch ends the holder gives back what it has beyond its
 * share and is not using (its gate narrows first, so the cap holds in all at every moment).
 *
 * Keys (names.ts): `hookWorkers` hash, fields `<workerId>:slots`, `<workerId>:held` and
 * `<workerId>:wants` (until when, epoch ms; dropped by the first take that finds it lapsed);
 * `hookLeases` sorted set, member = worker id, score = when its slots and held count lapse;
 * `hookBucket` hash {tokens, at}.
 */
import { type Keyspace, LuaScript } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";

/**
 * KEYS[1] hookWorkers, KEYS[2] hookLeases, KEYS[3] hookBucket, KEYS[4] the hook's health hash.
 * ARGV[1] worker id, ARGV[2] now (ms), ARGV[3] lease (ms), ARGV[4] slots wanted more, ARGV[5] the
 * hook's cap, ARGV[6] slots this worker has given back whose release is not sent yet,
 * ARGV[7] deliveries in the batch, ARGV[8] rate per second (0: none), ARGV[9] how long a want
 * lasts (ms).
 * Drops lapsed workers' slots and counts, and lapsed wants; grants up to the slots wanted within
 * the cap and within this worker's share while other workers want (the cap over them and this
 * one, rounded up); takes up to one token per delivery when the hook has a rate. The batch is
 * accepted when the worker then holds a slot and (with a rate) got a token; only then are the
 * grant, the tokens and the held count kept, and the worker's want dropped. Refused for want of
 * a slot, the worker's want is kept instead. Returns {accepted 0|1, slots granted, tokens (-1: no
 * rate), next token at (ms, 0: none), deliveries held by other workers, the health hash as
 * HGETALL, this worker's share of the cap (the whole cap when no other worker wants)}.
 */
const TAKE_SCRIPT = `local worker, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lapsed = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now)
for _, w in ipairs(lapsed) do
  redis.call("HDEL", KEYS[1], w .. ":slots", w .. ":held")
  redis.call("ZREM", KEYS[2], w)
end
-- This worker's own slots as stored: every take it sent before this one has run (one connection,
-- in order), so the slots granted to takes whose answers it has not read yet are counted, and
-- its many hand-overs of one hook at once take the cap once, not once each. Less the releases it
-- booked but not sent yet (ARGV[6]): they must not cost it the slots it asks for again.
local mine = worker .. ":"
local own = math.max(0, (tonumber(redis.call("HGET", KEYS[1], mine .. "slots")) or 0) - tonumber(ARGV[6]))
local used, elsewhere, wanting = own, 0, 0
local all = redis.call("HGETALL", KEYS[1])
for i = 1, #all, 2 do
  local field, n = all[i], tonumber(all[i + 1])
  if string.sub(field, 1, #mine) ~= mine then
    local kind = string.sub(field, -6)
    if kind == ":slots" then
      used = used + n
    elseif kind == ":wants" then
      if n > now then wanting = wanting + 1 else redis.call("HDEL", KEYS[1], field) end
    else
      elsewhere = elsewhere + n
    end
  end
end
local cap = tonumber(ARGV[5])
local share = math.max(1, math.ceil(cap / (1 + wanting)))
local grant = math.max(0, math.min(tonumber(ARGV[4]), cap - used, share - own))
local have = grant + own
local size, rate = tonumber(ARGV[7]), tonumber(ARGV[8])
local health = redis.call("HGETALL", KEYS[4])
if have <= 0 then
  redis.call("HSET", KEYS[1], mine .. "wants", now + tonumber(ARGV[9]))
  return {0, 0, -1, 0, elsewhere, health, share}
end
local tokens, nextAt = -1, 0
if rate > 0 then
  local bucket = redis.call("HMGET", KEYS[3], "tokens", "at")
  local burst = math.max(1, rate)
  local at = tonumber(bucket[2]) or now
  local t = math.min(burst, (tonumber(bucket[1]) or burst) + math.max(0, now - at) * rate / 1000)
  tokens = math.floor(math.min(size, t))
  if tokens < size then nextAt = now + math.ceil(math.max(0, 1 - (t - tokens)) * 1000 / rate) end
  if tokens <= 0 then return {0, 0, 0, nextAt, elsewhere, health, share} end
  redis.call("HSET", KEYS[3], "tokens", tostring(t - tokens), "at", now)
  redis.call("PEXPIRE", KEYS[3], 3600000)
end
if grant > 0 then redis.call("HINCRBY", KEYS[1], worker .. ":slots", grant) end
redis.call("HINCRBY", KEYS[1], worker .. ":held", size)
redis.call("HDEL", KEYS[1], mine .. "wants")
redis.call("ZADD", KEYS[2], now + lease, worker)
return {1, grant, tokens, nextAt, elsewhere, health, share}`;

/**
 * KEYS[1] hookWorkers, KEYS[2] hookLeases. ARGV[1] worker id, ARGV[2] slots given back, ARGV[3]
 * deliveries no longer held. Forgets the worker for the hook once it holds nothing.
 */
const RELEASE_SCRIPT = `local worker = ARGV[1]
local slots = redis.call("HINCRBY", KEYS[1], worker .. ":slots", 0 - tonumber(ARGV[2]))
local held = redis.call("HINCRBY", KEYS[1], worker .. ":held", 0 - tonumber(ARGV[3]))
if slots <= 0 then redis.call("HDEL", KEYS[1], worker .. ":slots") end
if held <= 0 then
  redis.call("HDEL", KEYS[1], worker .. ":held")
  if slots <= 0 then redis.call("ZREM", KEYS[2], worker) end
end
return 0`;

/**
 * How long a worker refused for want of a hook's slots is counted as wanting them: past the
 * longest wait of a refused job (2 s, see processor.ts), so that a worker still coming back keeps
 * its want, and one that went away costs the holders their full width for no longer than this.
 */
export const WANT_MS = 5_000;

const TAKE = new LuaScript("hookwireHookTake", 4, TAKE_SCRIPT);
const RELEASE = new LuaScript("hookwireHookRelease", 2, RELEASE_SCRIPT);
/** The limits' scripts, for `defineScripts` on the worker's connection. */
export const LIMIT_SCRIPTS: readonly LuaScript[] = [TAKE, RELEASE];

export interface LimitRequest {
  /** Requests in flight to the hook at most, in all workers. */
  concurrency: number;
  ratePerSecond?: number | undefined;
  /** Deliveries in the batch. */
  size: number;
}

export interface TakeAnswer {
  /** The batch may be sent: this worker holds a slot of the hook (and, with a rate, a token). */
  accepted: boolean;
  /**
   * Redis kept the batch's count (and any grant): what it kept must be given back if the batch is
   * not sent after all. Kept but not accepted: the take leaned on this worker's own slots, which
   * it gave back between sending the take and reading its answer.
   */
  kept: boolean;
  /** Deliveries of the batch that may be sent now (the rest wait for tokens). */
  sendable: number;
  /** When the next token comes (epoch ms), when the batch got fewer than it has. */
  nextTokenAt: number | undefined;
  /** The hook's health hash, as HGETALL answered it. */
  health: (string | number)[];
}

/** What one batch gives back when its outcomes are written. */
export interface Release {
  slots: number;
  held: number;
  /** Added to a write already (see `addRelease`). */
  sent?: boolean;
}

interface Local {
  /** Slots this worker holds for the hook. */
  slots: number;
  /** This worker's share of the hook's cap as of the last take (the take's; see TAKE_SCRIPT). */
  share: number;
  /** Deliveries of the hook in this worker's memory. */
  held: number;
  /** Deliveries other workers held at the last take. */
  elsewhere: number;
  /** Slots given back whose release is not sent yet (see `addRelease`). */
  releasing: number;
}

export class HookLimits {
  readonly #keys: Keyspace;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #hooks = new Map<string, Local>();

  constructor(keys: Keyspace, workerId: string, leaseMs: number) {
    this.#keys = keys;
    this.#workerId = workerId;
    this.#leaseMs = leaseMs;
  }

  /** Adds the take of a batch to the hand-over's pipeline; read its answer with `answer`. */
  addTake(pipeline: ChainableCommander, hookId: string, request: LimitRequest, now: number): void {
    const local = this.#local(hookId);
    const wanted = Math.max(0, Math.min(request.concurrency - local.slots, request.size));
    TAKE.add(
      pipeline,
      this.#keys.hookWorkers(hookId),
      this.#keys.hookLeases(hookId),
      this.#keys.hookBucket(hookId),
      this.#keys.hookHealth(hookId),
      this.#workerId,
      now,
      this.#leaseMs,
      wanted,
      request.concurrency,
      local.releasing,
      request.size,
      request.ratePerSecond ?? 0,
      WANT_MS,
    );
  }

  /** Books what the take granted (synchronously, so that a release in between counts it). */
  answer(hookId: string, request: LimitRequest, raw: unknown): TakeAnswer {
    const [accepted, granted, tokens, nextAt, elsewhere, health, share] = raw as [
      number,
      number,
      number,
      number,
      number,
      (string | number)[],
      number,
    ];
    const local = this.#local(hookId);
    local.elsewhere = Number(elsewhere);
    local.share = Number(share);
    const nextTokenAt = Number(nextAt) || undefined;
    if (Number(accepted) !== 1) return { accepted: false, kept: false, sendable: 0, nextTokenAt, health };
    local.slots += Number(granted);
    local.held += request.size;
    // Granted nothing, on slots this worker held when Redis ran the take but has given back since
    // (a release booked after the take was sent): it holds no slot now, and sending would put one
    // request more than the cap in flight.
    if (local.slots === 0) return { accepted: false, kept: true, sendable: 0, nextTokenAt, health };
    const sendable = Number(tokens) < 0 ? request.size : Number(tokens);
    return { accepted: true, kept: true, sendable, nextTokenAt, health };
  }

  /**
   * After a take that leaned on slots this worker gave back while it was on its way (answered
   * `accepted: false, kept: true`): gives back what that take kept and takes again, in one round
   * trip, and answers as `answer` does. The release that raced it was sent before this, so the new
   * take finds those slots free; without it, the batch would wait out a backoff in the queue for a
   * refusal that was never the cap's. Between the bursts of a steady stream that race is common.
   */
  async retake(redis: Redis, hookId: string, request: LimitRequest, now: number): Promise<TakeAnswer> {
    const pipeline = redis.pipeline();
    this.addRelease(pipeline, hookId, this.leaving(hookId, request.size));
    this.addTake(pipeline, hookId, request, now);
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    // The take's is the last reply (a release of nothing adds no command).
    return this.answer(hookId, request, replies[replies.length - 1]?.[1]);
  }

  /**
   * A batch of `size` deliveries of the hook leaves this worker's memory: what to give back. The
   * slots go back with the hook's last held batch (while others wait here, they use them), except
   * those beyond this worker's share while other workers want them, as far as the hook's
   * `inFlight` requests here leave them unused: narrow the hook's gate to `width` at once.
   */
  leaving(hookId: string, size: number, inFlight = 0): Release {
    const local = this.#local(hookId);
    local.held = Math.max(0, local.held - size);
    if (local.held > 0) {
      const spare = local.slots - Math.max(local.share, inFlight, 1);
      if (spare <= 0) return { slots: 0, held: size };
      local.slots -= spare;
      local.releasing += spare;
      return { slots: spare, held: size };
    }
    const slots = local.slots;
    local.slots = 0;
    local.releasing += slots;
    return { slots, held: size };
  }

  /**
   * Adds a release to a MULTI (a batch's outcomes), or to a pipeline of its own, sent at once on
   * the connection the takes use: from then on Redis has it before any later take, so it no
   * longer counts as pending (a write sent again after a failure does not count it twice).
   */
  addRelease(tx: ChainableCommander, hookId: string, release: Release): void {
    if (!release.sent) {
      release.sent = true;
      const local = this.#local(hookId);
      local.releasing = Math.max(0, local.releasing - release.slots);
    }
    if (release.slots === 0 && release.held === 0) return;
    RELEASE.add(
      tx,
      this.#keys.hookWorkers(hookId),
      this.#keys.hookLeases(hookId),
      this.#workerId,
      release.slots,
      release.held,
    );
  }

  /** Slots this worker holds for the hook. */
  slots(hookId: string): number {
    return this.#hooks.get(hookId)?.slots ?? 0;
  }

  /**
   * The width of the hook's gate here: its slots, or, while other workers want them, no more
   * than this worker's share (the rest go back as the requests in flight end, see `leaving`).
   */
  width(hookId: string): number {
    const local = this.#hooks.get(hookId);
    if (local === undefined) return 0;
    return Math.min(local.slots, local.share);
  }

  /** Deliveries of the hook held by other workers, as of the last take. */
  heldElsewhere(hookId: string): number {
    return this.#hooks.get(hookId)?.elsewhere ?? 0;
  }

  /** Adds the renewal of this worker's leases on every hook it holds something of. */
  addRenewals(pipeline: ChainableCommander, now: number): void {
    for (const [hookId, local] of this.#hooks) {
      if (local.held === 0 && local.slots === 0 && local.releasing === 0) {
        this.#hooks.delete(hookId);
        continue;
      }
      pipeline.zadd(this.#keys.hookLeases(hookId), "XX", now + this.#leaseMs, this.#workerId);
    }
  }

  #local(hookId: string): Local {
    let local = this.#hooks.get(hookId);
    if (local === undefined) {
      local = { slots: 0, share: Number.POSITIVE_INFINITY, held: 0, elsewhere: 0, releasing: 0 };
      this.#hooks.set(hookId, local);
    }
    return local;
  }
}
