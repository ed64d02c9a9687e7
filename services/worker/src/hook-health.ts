/**
 * Each hook's circuit breaker, ONE per hook whichever worker sends: the state lives in the hook's
 * health hash in Redis and every transition is a compare-and-set on its `rev`, computed by the
 * pure state machine of @hookwire/delivery (circuit.ts) from the state as read. So the circuit
 * opens once, after the failures of all workers together, and one probe per cool-down goes out:
 * the worker whose `probe_started` lands first sends it.
 *
 * Each worker keeps a mirror of the state, refreshed at every job's hand-over (the hash rides in
 * that pipeline) and by every transition it makes, so admission is a synchronous look at memory
 * and the healthy path (a success on a closed circuit with no failures) writes nothing.
 */
import {
  type CircuitConfig,
  type CircuitEvent,
  type CircuitState,
  CLOSED_CIRCUIT,
  circuitAdmission,
  nextCircuitState,
} from "@hookwire/delivery";
import { type Keyspace, LuaScript } from "@hookwire/queue";
import { decodeHealth, encodeCircuit, type StoredHealth } from "@hookwire/store";
import type { ChainableCommander, Redis } from "ioredis";

export type Admission = { kind: "send" } | { kind: "probe" } | { kind: "wait"; until: number };

/** A hook's health as this worker mirrors it: the stored health, and its transition under way. */
interface Health extends StoredHealth {
  /** The transition under way (see `#transition`). */
  queue: Promise<void>;
}

/**
 * KEYS[1] the health hash. ARGV[1] the rev the new state was computed from; ARGV[2..] the
 * circuit's field/value pairs (encodeCircuit). Writes them and bumps `rev` when it is still the
 * same; returns {1, new rev}, else {0, the hash as HGETALL} for the caller to compute again.
 */
const CAS_SCRIPT = `local rev = tonumber(redis.call("HGET", KEYS[1], "rev") or "0")
if rev ~= tonumber(ARGV[1]) then return {0, redis.call("HGETALL", KEYS[1])} end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call("HSET", KEYS[1], "rev", rev + 1, unpack(fields))
return {1, rev + 1}`;
const CAS = new LuaScript("hookwireHealthCas", 1, CAS_SCRIPT);
/** The health's script, for `defineScripts` on the worker's connection. */
export const HEALTH_SCRIPTS: readonly LuaScript[] = [CAS];

/** Compare-and-set tries before a transition is kept in this worker's mirror only. */
const CAS_TRIES = 5;

/** The verdict of a success while the circuit is closed with no failures (read only). */
const HEALTHY: Promise<Verdict> = Promise.resolve(Object.freeze({ disable: false }));

export interface Verdict {
  disable: boolean;
  failingSince?: number;
  /**
   * The circuit opened or closed with this attempt, as written by this worker (the one whose
   * compare-and-set won: of every worker sharing the hook, one tells of each change).
   */
  circuit?: "opened" | "closed";
}

export class HookHealth {
  readonly #hooks = new Map<string, Health>();
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #config: CircuitConfig;

  constructor(redis: Redis, keys: Keyspace, config: CircuitConfig) {
    this.#redis = redis;
    this.#keys = keys;
    this.#config = config;
  }

  /** Takes the shared state as read from Redis, unless this worker already knows a newer one. */
  sync(hookId: string, raw: (string | number)[] | Record<string, string>): void {
    const stored = decodeHealth(raw);
    const health = this.#get(hookId);
    if (stored.rev >= health.rev) {
      health.circuit = stored.circuit;
      health.rev = stored.rev;
    }
  }

  /** What a delivery may do now, from the mirror: send, ask for the probe (`claimProbe`), or wait. */
  admit(hookId: string, now: number): Admission {
    const admission = circuitAdmission(this.#get(hookId).circuit, now);
    if (admission.verb === "wait") return { kind: "wait", until: now + admission.untilMs };
    return admission.verb === "send" ? { kind: "send" } : { kind: "probe" };
  }

  /** Whether this worker won the probe of the hook's cool-down (another worker may have). */
  async claimProbe(hookId: string, now: number): Promise<boolean> {
    const { changed } = await this.#transition(hookId, { kind: "probe_started", at: now });
    return changed;
  }

  /** Feeds one answered attempt; says whether the hook has failed long enough to be disabled. */
  report(hookId: string, succeeded: boolean, at: number, reason?: string): Promise<Verdict> {
    const health = this.#get(hookId);
    if (succeeded) health.lastSuccessAt = at;
    else {
      health.lastFailureAt = at;
      if (reason !== undefined) health.lastFailureReason = reason;
    }
    // The healthy path, once per delivery: nothing to write while the circuit is closed with no
    // failures, and one answer made once for all of them.
    if (succeeded && health.circuit.state === "closed" && health.circuit.consecutiveFailures === 0)
      return HEALTHY;
    return this.#transition(hookId, { kind: succeeded ? "success" : "failure", at }).then(
      ({ verdict }) => verdict,
    );
  }

  state(hookId: string): CircuitState {
    return this.#get(hookId).circuit;
  }

  /** Adds the latest outcomes (not the circuit: see `#transition`) to a batch's MULTI. */
  persist(tx: ChainableCommander, hookId: string): void {
    const health = this.#get(hookId);
    const fields: (string | number)[] = ["updatedAt", Date.now()];
    if (health.lastSuccessAt !== undefined) fields.push("lastSuccessAt", health.lastSuccessAt);
    if (health.lastFailureAt !== undefined) fields.push("lastFailureAt", health.lastFailureAt);
    if (health.lastFailureReason !== undefined) fields.push("lastFailureReason", health.lastFailureReason);
    tx.hset(this.#keys.hookHealth(hookId), ...fields);
  }

  /**
   * Applies an event to the shared state: computed from the state as last read, written only if
   * nobody wrote in between, else computed again from what they wrote. With Redis away the
   * transition is kept in the mirror alone (this worker still stops sending to a dead receiver).
   */
  #transition(hookId: string, event: CircuitEvent): Promise<{ changed: boolean; verdict: Verdict }> {
    // One at a time per hook in this process: ten attempts failing in the same moment would
    // otherwise race each other's compare-and-set, each losing and reading again.
    const health = this.#get(hookId);
    const next = health.queue.then(() => this.#apply(hookId, event));
    health.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  async #apply(hookId: string, event: CircuitEvent): Promise<{ changed: boolean; verdict: Verdict }> {
    const health = this.#get(hookId);
    const key = this.#keys.hookHealth(hookId);
    for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
      const next = nextCircuitState(health.circuit, event, this.#config);
      const verdict: Verdict = { disable: next.disable };
      if (next.state.failingSince !== undefined) verdict.failingSince = next.state.failingSince;
      if (next.state === health.circuit) return { changed: false, verdict };
      let answer: [number, number | (string | number)[]];
      try {
        answer = (await CAS.run(this.#redis, key, health.rev, ...encodeCircuit(next.state))) as typeof answer;
      } catch {
        health.circuit = next.state;
        return { changed: true, verdict };
      }
      if (answer[0] === 1) {
        const before = health.circuit.state;
        health.circuit = next.state;
        health.rev = Number(answer[1]);
        if (before !== "open" && next.state.state === "open") verdict.circuit = "opened";
        else if (before !== "closed" && next.state.state === "closed") verdict.circuit = "closed";
        return { changed: true, verdict };
      }
      const stored = decodeHealth(answer[1] as (string | number)[]);
      health.circuit = stored.circuit;
      health.rev = stored.rev;
    }
    return { changed: false, verdict: { disable: false } };
  }

  #get(hookId: string): Health {
    let health = this.#hooks.get(hookId);
    if (health === undefined) {
      health = { circuit: CLOSED_CIRCUIT, rev: 0, queue: Promise.resolve() };
      this.#hooks.set(hookId, health);
    }
    return health;
  }
}
