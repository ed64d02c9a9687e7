/**
 * Scenarios 6 and 7: hooks whose receivers hang (take the request, never answer; the worker's
 * attempt times out after its default 15 s) beside a healthy hook, which must get every
 * delivery, and (6) with a p95 latency within 2× of its p95 alone. Only the healthy hook's
 * deliveries are expected and counted: the hanging ones cannot arrive by construction.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expectedDeliveries, p95OfExpected } from "./accounting";
import { type BatchOutcome, postPaced, type RetryingClient } from "./client";
import type { ArrivalTable } from "./recorder-protocol";
import { readRecords } from "./records";
import {
  acceptedEntries,
  chaosBatches,
  POST_CONCURRENCY,
  quietMsOf,
  type Scenario,
  withSystem,
} from "./scenario";
import { rowOf, settle, settledNote } from "./settle";
import type { ChaosSystem } from "./system";

/** Hooks whose receivers hang in scenario 6, each on an origin of its own (the recorder opens them). */
export const HANGING_HOOKS = 40;
/** Small requests often, as latency wants (the bench's latency runs do the same): 20 entries/s. */
const ENTRIES_PER_REQUEST = 2;
const REQUEST_INTERVAL_MS = 100;
/**
 * Scenario 7's hanging hook may have this many requests in flight (a per-hook setting), twice the
 * connections the worker keeps to one origin: with the default of 10 it could never take the
 * origin's pool, however badly the pool were shared.
 */
const HANGING_PATH_CONCURRENCY = 64;
/** Hooks are read from a cache renewed on a version bump; a new hook is seen within this. */
const HOOKS_SEEN_MS = 1_000;

/**
 * Before the healthy hook's latency alone is measured, the same flow for this long, not measured:
 * the first deliveries of fresh processes (cold code, new connections) are not its latency.
 */
const WARM_UP_MS = 1_000;

/** Posts `durationMs` worth of small requests. */
function postPhase(client: RetryingClient, label: string, durationMs: number): Promise<BatchOutcome[]> {
  const count = Math.round(durationMs / REQUEST_INTERVAL_MS) * ENTRIES_PER_REQUEST;
  const batches = chaosBatches(label, count, ENTRIES_PER_REQUEST);
  return postPaced(client, batches, { intervalMs: REQUEST_INTERVAL_MS, concurrency: POST_CONCURRENCY });
}

/**
 * Each delivery's first arrival and acceptedAt as ingest recorded it, for the latency figures,
 * and how many took more than one attempt (a timeout or an error before the one that arrived).
 */
async function latencyInputs(system: ChaosSystem, arrivals: ArrivalTable, ids: readonly string[]) {
  const arrivedAt = new Map(arrivals.ids.map((id, i) => [id, arrivals.firstAt[i]!]));
  const acceptedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  let retried = 0;
  for (const [id, record] of await readRecords(system.inspect, system.partitions, ids)) {
    if (record.acceptedAt !== undefined) acceptedAt.set(id, record.acceptedAt);
    if (record.firstAttemptAt !== undefined) startedAt.set(id, record.firstAttemptAt);
    if ((record.attempts ?? 0) > 1) retried++;
  }
  return { arrivedAt, acceptedAt, startedAt, retried };
}

/**
 * Where a p95 went: from acceptance (the start of ingest's work on the request) to the first
 * attempt's start (ingest, the relay, the queue and the worker's hand-over), and from there to
 * the arrival (the request itself).
 */
function latencySplit(
  label: string,
  expected: ReadonlySet<string>,
  inputs: Awaited<ReturnType<typeof latencyInputs>>,
): string {
  const queued = p95OfExpected(expected, inputs.startedAt, inputs.acceptedAt);
  const sent = p95OfExpected(expected, inputs.arrivedAt, inputs.startedAt);
  return `${label}: p95 ${queued ?? "n/a"} ms from acceptance to the first attempt, ${sent ?? "n/a"} ms from there to arrival`;
}

const hangingHooks: Scenario = {
  name: "hanging-hooks",
  summary: `a healthy hook alone, then beside ${HANGING_HOOKS} hooks whose receivers hang (each its own origin)`,
  run: (context) =>
    withSystem(context, "hanging-hooks", async (system, client) => {
      const { recorder, hangingRecorder } = context;
      if (hangingRecorder.hangingUrls.length < HANGING_HOOKS)
        throw new Error(
          `the recorder has ${hangingRecorder.hangingUrls.length} hanging origins, ${HANGING_HOOKS} needed`,
        );
      await Promise.all([recorder.reset(), hangingRecorder.reset()]);
      const healthy = [await system.createHook("chaos-healthy", `${recorder.url}/ok/healthy`)];
      const warm = acceptedEntries(await postPhase(client, "hanging-hooks-warm", WARM_UP_MS));
      const alone = acceptedEntries(
        await postPhase(client, "hanging-hooks-alone", context.sizes.latencyPhaseMs),
      );
      const warmExpected = expectedDeliveries(warm.entryIds, healthy);
      const aloneExpected = expectedDeliveries(alone.entryIds, healthy);
      await settle({
        system,
        recorder,
        expected: new Set([...warmExpected, ...aloneExpected]),
        pendingOf: healthy,
        quietMs: 5e3,
        capMs: 30e3,
      });

      for (let n = 0; n < HANGING_HOOKS; n++)
        await system.createHook(`chaos-hanging-${n}`, `${hangingRecorder.hangingUrls[n]}/hang/${n}`);
      await sleep(HOOKS_SEEN_MS);
      const beside = acceptedEntries(
        await postPhase(client, "hanging-hooks-beside", context.sizes.latencyPhaseMs),
      );
      const besideExpected = expectedDeliveries(beside.entryIds, healthy);
      const expected = new Set([...warmExpected, ...aloneExpected, ...besideExpected]);
      const settled = await settle({
        system,
        recorder,
        expected,
        pendingOf: healthy,
        quietMs: quietMsOf(system),
        capMs: context.sizes.settleCapMs,
      });
      const inputs = await latencyInputs(system, settled.arrivals, [...expected]);
      const { arrivedAt, acceptedAt, retried } = inputs;
      const { hanging } = await hangingRecorder.counts();
      return {
        row: {
          ...rowOf("hanging-hooks", settled),
          healthyP95Ms: p95OfExpected(besideExpected, arrivedAt, acceptedAt),
          healthyAloneP95Ms: p95OfExpected(aloneExpected, arrivedAt, acceptedAt),
        },
        gaveUpEntries: warm.gaveUpEntries + alone.gaveUpEntries + beside.gaveUpEntries,
        notes: [
          `healthy deliveries: ${warmExpected.size} warm-up, ${aloneExpected.size} alone, ${besideExpected.size} beside, ${retried} of them took more than one attempt; the hanging hooks took ${hanging} requests`,
          latencySplit("alone", aloneExpected, inputs),
          latencySplit("beside", besideExpected, inputs),
          settledNote(settled),
          ...warm.notes,
          ...alone.notes,
          ...beside.notes,
        ],
      };
    }),
};

const sharedOrigin: Scenario = {
  name: "shared-origin",
  summary: `a hanging path (hook concurrency ${HANGING_PATH_CONCURRENCY}) and a healthy path on one origin (same host:port)`,
  run: (context) =>
    withSystem(context, "shared-origin", async (system, client) => {
      const { recorder } = context;
      await recorder.reset();
      const healthy = [await system.createHook("chaos-healthy", `${recorder.url}/ok/healthy`)];
      await system.createHook("chaos-hanging", `${recorder.url}/hang/slow`, {
        concurrency: HANGING_PATH_CONCURRENCY,
      });
      const accepted = acceptedEntries(
        await postPhase(client, "shared-origin", context.sizes.latencyPhaseMs),
      );
      const expected = expectedDeliveries(accepted.entryIds, healthy);
      const settled = await settle({
        system,
        recorder,
        expected,
        pendingOf: healthy,
        quietMs: quietMsOf(system),
        capMs: context.sizes.settleCapMs,
      });
      const { arrivedAt, acceptedAt, retried } = await latencyInputs(system, settled.arrivals, [...expected]);
      const p95 = p95OfExpected(expected, arrivedAt, acceptedAt);
      const { hanging } = await recorder.counts();
      return {
        row: {
          ...rowOf("shared-origin", settled),
        },
        gaveUpEntries: accepted.gaveUpEntries,
        notes: [
          `the healthy path's p95: ${p95 === null ? "n/a (>5 % never came)" : `${p95} ms`}, ${retried} of its deliveries took more than one attempt; the hanging path took ${hanging} requests`,
          settledNote(settled),
          ...accepted.notes,
        ],
      };
    }),
};

export const ISOLATION_SCENARIOS: readonly Scenario[] = [hangingHooks, sharedOrigin];
