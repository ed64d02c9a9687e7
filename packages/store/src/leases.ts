/**
 * Short leases on the keys a request is working on: the ids of the entries it is accepting, the
 * Idempotency-Key it is answering. A lease is a random token stored under the key with a TTL of a
 * few seconds, renewed while the request runs; when the process dies the renewals stop and the
 * key frees itself within one lease, so a retry is processed again instead of being refused for
 * the whole idempotency window. When the work is done its kept value replaces the token (written
 * in the work's own MULTI, so that the two land together, or not at all); when the work fails the
 * token is deleted, but only while it is still this lease's (a late command must never delete a
 * value another request wrote).
 */
import { randomBytes } from "node:crypto";
import { LuaScript } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";

/** What a key held when a lease was asked for. */
export type LeaseState =
  /** Nothing: the lease is ours. */
  | "taken"
  /** A kept value: the work was done already (an entry accepted, an answer kept). */
  | "kept"
  /** Another request's lease: the work is under way elsewhere. */
  | "leased";

const LEASE_PREFIX = "lease:";

/**
 * KEYS: the keys. ARGV[1] the lease's token, ARGV[2] the lease in ms, ARGV[3] the token prefix.
 * Returns per key 1 (taken now), 0 (holds a kept value, or this very lease: a key named twice),
 * 2 (holds another lease, or expired in between: busy either way).
 */
const TAKE_SCRIPT = `local states = {}
for i, key in ipairs(KEYS) do
  if redis.call("SET", key, ARGV[1], "PX", ARGV[2], "NX") then
    states[i] = 1
  else
    local value = redis.call("GET", key)
    if value == ARGV[1] or (value and string.sub(value, 1, #ARGV[3]) ~= ARGV[3]) then
      states[i] = 0
    else
      states[i] = 2
    end
  end
end
return states`;

/** KEYS: the keys. ARGV[1] the token, ARGV[2] the lease in ms. Renews the keys still ours. */
const RENEW_SCRIPT = `for _, key in ipairs(KEYS) do
  if redis.call("GET", key) == ARGV[1] then redis.call("PEXPIRE", key, ARGV[2]) end
end
return 0`;

/** KEYS: the keys. ARGV[1] the token. Deletes the keys still ours. */
const RELEASE_SCRIPT = `for _, key in ipairs(KEYS) do
  if redis.call("GET", key) == ARGV[1] then redis.call("DEL", key) end
end
return 0`;

/** KEYS: the keys. ARGV[1] the kept value, ARGV[2] its TTL in ms. One command for a request's keys. */
const KEEP_SCRIPT = `for _, key in ipairs(KEYS) do redis.call("SET", key, ARGV[1], "PX", ARGV[2]) end
return 0`;

const TAKE = new LuaScript("hookwireLeaseTake", undefined, TAKE_SCRIPT);
const KEEP = new LuaScript("hookwireLeaseKeep", undefined, KEEP_SCRIPT);
const RENEW = new LuaScript("hookwireLeaseRenew", undefined, RENEW_SCRIPT);
const RELEASE = new LuaScript("hookwireLeaseRelease", undefined, RELEASE_SCRIPT);
/** The leases' scripts, for `defineScripts` on the connection that takes them. */
export const LEASE_SCRIPTS: readonly LuaScript[] = [TAKE, KEEP, RENEW, RELEASE];

const STATES: readonly LeaseState[] = ["kept", "taken", "leased"];

/** The leases one request holds, renewed every third of the lease until it ends. */
export class Lease {
  readonly #redis: Redis;
  readonly #keys: readonly string[];
  readonly #token: string;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, keys: readonly string[], token: string, leaseMs: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#token = token;
    if (keys.length > 0) {
      this.#timer = setInterval(
        () => {
          RENEW.run(redis, keys.length, ...keys, token, leaseMs).catch(() => {
            // A missed renewal costs nothing while the next one lands; past the lease a retry may
            // run the work a second time, which is a duplicate, never a loss.
          });
        },
        Math.max(100, Math.floor(leaseMs / 3)),
      );
      this.#timer.unref();
    }
  }

  /** Adds, to the work's MULTI, the writes that replace every lease with `value` for `ttlMs`. */
  keep(tx: ChainableCommander, value: string, ttlMs: number): void {
    if (this.#keys.length > 0) KEEP.add(tx, this.#keys.length, ...this.#keys, value, ttlMs);
  }

  /** The work is over (kept or not): no more renewals. */
  end(): void {
    clearInterval(this.#timer);
  }

  /** The work failed: frees the keys that are still this lease's. Never throws. */
  async release(): Promise<void> {
    this.end();
    if (this.#keys.length === 0) return;
    await RELEASE.run(this.#redis, this.#keys.length, ...this.#keys, this.#token).catch(() => undefined);
  }
}

/**
 * Asks for a lease on each key; answers what each key held and a Lease over the keys taken now
 * (renewing until `end` or `release`).
 */
export async function takeLeases(
  redis: Redis,
  keys: readonly string[],
  leaseMs: number,
): Promise<{ states: LeaseState[]; lease: Lease }> {
  const token = `${LEASE_PREFIX}${randomBytes(12).toString("base64url")}`;
  const answers = (await TAKE.run(redis, keys.length, ...keys, token, leaseMs, LEASE_PREFIX)) as number[];
  const states = answers.map((answer) => STATES[answer] ?? "leased");
  const taken = keys.filter((_, i) => states[i] === "taken");
  return { states, lease: new Lease(redis, taken, token, leaseMs) };
}

/** Whether a value read from a leased key is a lease token (the work still under way). */
export function isLeaseToken(value: string): boolean {
  return value.startsWith(LEASE_PREFIX);
}
