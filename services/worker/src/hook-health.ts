import {
  type CircuitConfig,
  type CircuitState,
  CLOSED_CIRCUIT,
  circuitAdmission,
  nextCircuitState,
} from "@hookwire/delivery";
import type { Keyspace } from "@hookwire/queue";
import type { ChainableCommander } from "ioredis";

export type Admission = { kind: "send" } | { kind: "probe" } | { kind: "wait"; until: number };

interface Health {
  circuit: CircuitState;
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastFailureReason?: string;
}

/**
 * Each hook's circuit breaker and latest outcomes in this worker process, written through to
 * `<prefix>:hook:<id>:health` so the API and the dashboard can show a hook's health.
 */
export class HookHealth {
  readonly #hooks = new Map<string, Health>();

  constructor(
    private readonly keys: Keyspace,
    private readonly config: CircuitConfig,
  ) {}

  admit(hookId: string, now: number): Admission {
    const health = this.#get(hookId);
    const admission = circuitAdmission(health.circuit, now);
    if (admission.verb === "wait") return { kind: "wait", until: now + admission.untilMs };
    if (admission.verb === "send") return { kind: "send" };
    const next = nextCircuitState(health.circuit, { kind: "probe_started", at: now }, this.config);
    if (next.state === health.circuit) return { kind: "wait", until: now + this.config.openMs };
    health.circuit = next.state;
    return { kind: "probe" };
  }

  /** Feeds one answered attempt; says whether the hook has failed long enough to be disabled. */
  settle(
    hookId: string,
    succeeded: boolean,
    at: number,
    reason?: string,
  ): { disable: boolean; failingSince?: number } {
    const health = this.#get(hookId);
    const next = nextCircuitState(
      health.circuit,
      { kind: succeeded ? "success" : "failure", at },
      this.config,
    );
    health.circuit = next.state;
    if (succeeded) health.lastSuccessAt = at;
    else {
      health.lastFailureAt = at;
      if (reason !== undefined) health.lastFailureReason = reason;
    }
    return {
      disable: next.disable,
      ...(next.state.failingSince !== undefined ? { failingSince: next.state.failingSince } : {}),
    };
  }

  state(hookId: string): CircuitState {
    return this.#get(hookId).circuit;
  }

  persist(pipeline: ChainableCommander, hookId: string): void {
    const health = this.#get(hookId);
    const fields: Record<string, string | number> = {
      circuit: health.circuit.state,
      consecutiveFailures: health.circuit.consecutiveFailures,
      updatedAt: Date.now(),
    };
    if (health.lastSuccessAt !== undefined) fields.lastSuccessAt = health.lastSuccessAt;
    if (health.lastFailureAt !== undefined) fields.lastFailureAt = health.lastFailureAt;
    if (health.lastFailureReason !== undefined) fields.lastFailureReason = health.lastFailureReason;
    if (health.circuit.probeAt !== undefined) fields.probeAt = health.circuit.probeAt;
    pipeline.hset(this.keys.hookHealth(hookId), fields);
  }

  #get(hookId: string): Health {
    let health = this.#hooks.get(hookId);
    if (health === undefined) {
      health = { circuit: CLOSED_CIRCUIT };
      this.#hooks.set(hookId, health);
    }
    return health;
  }
}
