import { expect, test } from "vitest";
import {
  type CircuitEvent,
  type CircuitState,
  CLOSED_CIRCUIT,
  circuitAdmission,
  nextCircuitState,
} from "./circuit";

const config = { failureThreshold: 3, openMs: 30_000, disableAfterMs: 5 * 86_400_000, maxOpenMs: 120_000 };

function run(events: CircuitEvent[], start: CircuitState = CLOSED_CIRCUIT) {
  let state = start;
  let disable = false;
  for (const event of events) ({ state, disable } = nextCircuitState(state, event, config));
  return { state, disable };
}
const failure = (at: number): CircuitEvent => ({ kind: "failure", at });
const success = (at: number): CircuitEvent => ({ kind: "success", at });
const probe = (at: number): CircuitEvent => ({ kind: "probe_started", at });

test("stays closed below the threshold and counts from the first failure", () => {
  const { state } = run([failure(1_000), failure(2_000)]);
  expect(state).toEqual({ state: "closed", consecutiveFailures: 2, failingSince: 1_000 });
  expect(circuitAdmission(state, 2_000)).toEqual({ verb: "send" });
});

test("a success resets the count", () => {
  expect(run([failure(1), failure(2), success(3), failure(4)]).state).toEqual({
    state: "closed",
    consecutiveFailures: 1,
    failingSince: 4,
  });
});

test("opens at the threshold; deliveries wait until probeAt, then one probe", () => {
  const { state } = run([failure(1_000), failure(2_000), failure(3_000)]);
  expect(state).toMatchObject({ state: "open", consecutiveFailures: 3, openedAt: 3_000, probeAt: 33_000 });
  expect(circuitAdmission(state, 10_000)).toEqual({ verb: "wait", untilMs: 23_000 });
  expect(circuitAdmission(state, 33_000)).toEqual({ verb: "probe" });
});

test("a probe started early is refused by returning the same state", () => {
  const open = run([failure(0), failure(0), failure(0)]).state;
  expect(nextCircuitState(open, probe(1_000), config).state).toBe(open);
  const probing = nextCircuitState(open, probe(30_000), config).state;
  expect(probing).toMatchObject({ state: "half_open", probeAt: 60_000 });
  // Another worker racing for the probe is refused; a lost probe is replaced after its deadline.
  expect(nextCircuitState(probing, probe(31_000), config).state).toBe(probing);
  expect(circuitAdmission(probing, 31_000)).toEqual({ verb: "wait", untilMs: 29_000 });
  expect(nextCircuitState(probing, probe(60_000), config).state).toMatchObject({ probeAt: 90_000 });
});

test("the probe's success closes the circuit", () => {
  const { state, disable } = run([failure(0), failure(0), failure(0), probe(30_000), success(30_500)]);
  expect(state).toEqual(CLOSED_CIRCUIT);
  expect(disable).toBe(false);
});

test("each failed probe doubles the cool-down, up to maxOpenMs", () => {
  let now = 0;
  let { state } = run([failure(0), failure(0), failure(0)]);
  const coolDowns: number[] = [];
  for (let i = 0; i < 5; i++) {
    now = state.probeAt!;
    state = nextCircuitState(state, probe(now), config).state;
    state = nextCircuitState(state, failure(now + 100), config).state;
    coolDowns.push(state.probeAt! - (now + 100));
  }
  expect(coolDowns).toEqual([60_000, 120_000, 120_000, 120_000, 120_000]);
  expect(state).toMatchObject({ state: "open", failedProbes: 5, failingSince: 0 });
});

test("failures of attempts already in flight while open do not move the probe", () => {
  const open = run([failure(0), failure(0), failure(0)]).state;
  const later = nextCircuitState(open, failure(5_000), config).state;
  expect(later).toMatchObject({ state: "open", consecutiveFailures: 4, probeAt: 30_000 });
});

test("failing continuously past disableAfterMs asks for the hook to be disabled", () => {
  const day = 86_400_000;
  expect(run([failure(0), failure(4 * day)]).disable).toBe(false);
  expect(run([failure(0), failure(5 * day)]).disable).toBe(true);
  expect(run([failure(0), success(day), failure(2 * day), failure(6 * day)]).disable).toBe(false);
});
