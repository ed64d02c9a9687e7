/**
 * Per-hook circuit breaker, as a pure state machine; the worker persists the state (in Redis) and
 * feeds it events. Closed: deliveries flow. After `failureThreshold` consecutive failures it opens:
 * deliveries wait without spending attempts until `probeAt`, when a single probe is let through
 * (half-open). The probe's success closes the circuit; its failure reopens it with a cool-down
 * twice as long (up to `maxOpenMs`). A hook failing without a single success for
 * `disableAfterMs` is to be disabled.
 */
export interface CircuitState {
  state: "closed" | "open" | "half_open";
  consecutiveFailures: number;
  /** Epoch ms the circuit last opened. */
  openedAt?: number;
  /** Epoch ms of the first failure since the last success. */
  failingSince?: number;
  /** Open: when a probe may start. Half-open: when the probe counts as lost and another may start. */
  probeAt?: number;
  /** Probes failed since the circuit opened; doubles the cool-down each time. */
  failedProbes?: number;
}

export interface CircuitConfig {
  failureThreshold: number;
  /** First cool-down before a probe, e.g. 30e3 (30 s). */
  openMs: number;
  /** Failing continuously this long disables the hook, e.g. 432e6 (5 days). */
  disableAfterMs: number;
  /** Longest cool-down; default 15 min, so a recovered receiver is noticed within that. */
  maxOpenMs?: number;
}

export type CircuitEvent = { kind: "success" | "failure" | "probe_started"; at: number };

export type CircuitAdmission = { verb: "send" } | { verb: "probe" } | { verb: "wait"; untilMs: number };

export const CLOSED_CIRCUIT: CircuitState = Object.freeze({ state: "closed", consecutiveFailures: 0 });

const defaultMaxOpenMs = 900e3; // 15 min

function coolDownMs(failedProbes: number, config: CircuitConfig): number {
  const max = Math.max(config.openMs, config.maxOpenMs ?? defaultMaxOpenMs);
  return Math.min(config.openMs * 2 ** Math.min(failedProbes, 30), max);
}

/**
 * Applies one event. Returns the very same `state` object when the event changes nothing
 * (e.g. `probe_started` before `probeAt`), so a caller can tell a refused probe by identity.
 */
export function nextCircuitState(
  state: CircuitState,
  event: CircuitEvent,
  config: CircuitConfig,
): { state: CircuitState; disable: boolean } {
  switch (event.kind) {
    case "success":
      return { state: CLOSED_CIRCUIT, disable: false };

    case "probe_started": {
      if (state.state === "closed" || event.at < (state.probeAt ?? 0)) return { state, disable: false };
      const deadline = event.at + coolDownMs(state.failedProbes ?? 0, config);
      return { state: { ...state, state: "half_open", probeAt: deadline }, disable: false };
    }

    case "failure": {
      const failingSince = state.failingSince ?? event.at;
      const consecutiveFailures = state.consecutiveFailures + 1;
      const disable = event.at - failingSince >= config.disableAfterMs;
      if (state.state === "closed") {
        if (consecutiveFailures < config.failureThreshold) {
          return { state: { state: "closed", consecutiveFailures, failingSince }, disable };
        }
        const opened: CircuitState = {
          state: "open",
          consecutiveFailures,
          failingSince,
          openedAt: event.at,
          probeAt: event.at + coolDownMs(0, config),
          failedProbes: 0,
        };
        return { state: opened, disable };
      }
      if (state.state === "open") {
        // An attempt already in flight when the circuit opened: counted, the cool-down unchanged.
        return { state: { ...state, consecutiveFailures, failingSince }, disable };
      }
      const failedProbes = (state.failedProbes ?? 0) + 1;
      const reopened: CircuitState = {
        state: "open",
        consecutiveFailures,
        failingSince,
        openedAt: event.at,
        probeAt: event.at + coolDownMs(failedProbes, config),
        failedProbes,
      };
      return { state: reopened, disable };
    }
  }
}

const send: CircuitAdmission = Object.freeze({ verb: "send" });
const probe: CircuitAdmission = Object.freeze({ verb: "probe" });

/**
 * What the worker may do with a delivery of this hook at `now`. On "probe" it applies
 * `probe_started` and sends only if that changed the state (another worker may have won the race).
 */
export function circuitAdmission(state: CircuitState, now: number): CircuitAdmission {
  if (state.state === "closed") return send;
  const probeAt = state.probeAt ?? 0;
  return now >= probeAt ? probe : { verb: "wait", untilMs: probeAt - now };
}
