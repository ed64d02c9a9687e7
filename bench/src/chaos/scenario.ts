/**
 * What a chaos scenario is, what it is given, and what the scenarios share: sizes (full and
 * --quick), a system of its own, the entries the client posts, and which of them got a 202.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { median } from "../statistics";
import { benchEntry } from "../workload";
import type { ScenarioRow } from "./accounting";
import { type Batch, type BatchOutcome, RetryingClient } from "./client";
import type { Recorder } from "./recorder";
import { type ChaosSystem, startChaosSystem } from "./system";

export interface ChaosSizes {
  /** Entries posted in the kill and freeze scenarios (1 to 4), in batches of 50. */
  faultEntries: number;
  /** Between the starts of two batches in those scenarios (the flow the faults cut into). */
  faultIntervalMs: number;
  /** Entries posted while the worker that cannot decrypt the hooks runs (scenario 5). */
  throwingEntries: number;
  /** How long that worker runs once they are posted. */
  badWorkerMs: number;
  /** Each latency phase of scenario 6 (alone, then beside the hanging hooks), and scenario 7. */
  latencyPhaseMs: number;
  /** The client gives a batch up after this long without a 202. */
  giveUpMs: number;
  /** The settle wait ends after this long whatever moves. */
  settleCapMs: number;
}

export const FULL_SIZES: ChaosSizes = {
  faultEntries: 3_000,
  faultIntervalMs: 250, // 60 batches over 15 s
  throwingEntries: 1_000,
  badWorkerMs: 5_000,
  latencyPhaseMs: 15_000,
  giveUpMs: 60e3,
  settleCapMs: 180e3,
};

export const QUICK_SIZES: ChaosSizes = {
  faultEntries: 1_000,
  faultIntervalMs: 400, // 20 batches over 8 s
  throwingEntries: 200,
  badWorkerMs: 3_000,
  latencyPhaseMs: 5_000,
  giveUpMs: 20e3,
  settleCapMs: 90e3,
};

export const ENTRIES_PER_BATCH = 50;
/** Requests the client keeps unanswered at most: a batch stuck in retries does not stop the flow. */
export const POST_CONCURRENCY = 4;
/** One request waits this long for ingest's status line before it counts as a network error. */
const REQUEST_TIMEOUT_MS = 10e3;

export interface ScenarioContext {
  recorder: Recorder;
  /**
   * The receivers of scenario 6's hanging hooks, one origin each: a process of their own, as
   * other hosts' would be, so that the healthy hook's arrivals are not stamped late by an event
   * loop busy taking the dead hooks' connections.
   */
  hangingRecorder: Recorder;
  sizes: ChaosSizes;
  /** HOOKWIRE_* settings of the harness's environment, over the chaos defaults. */
  env: Record<string, string>;
  /** The run's temporary directory; each scenario's redis-server keeps its AOF in a folder of it. */
  tempDir: string;
  /** The systems running now, for the harness to stop on Ctrl-C. */
  live: Set<ChaosSystem>;
  say(line: string): void;
}

export interface ScenarioResult {
  row: ScenarioRow;
  /** Entries whose batch never got a 202 (the client gave up): not counted as accepted. */
  gaveUpEntries: number;
  notes: string[];
}

export interface Scenario {
  name: string;
  summary: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** Runs `body` against a system and a client of its own, both stopped at the end whatever happens. */
export async function withSystem<T>(
  context: ScenarioContext,
  name: string,
  body: (system: ChaosSystem, client: RetryingClient) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(context.tempDir, `${name}-`));
  const system = await startChaosSystem({ dir, env: context.env });
  context.live.add(system);
  const client = new RetryingClient(system.ingestUrl, system.apiKey, {
    giveUpMs: context.sizes.giveUpMs,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  try {
    return await body(system, client);
  } finally {
    await client.close().catch(() => undefined);
    await system.stop();
    context.live.delete(system);
  }
}

/**
 * `count` entries with ids unique to this call (`<label>-<hex>-<n>`), `perBatch` to a body, each
 * batch with an Idempotency-Key of its own. Bodies are serialised before anything is posted.
 */
export function chaosBatches(label: string, count: number, perBatch: number): Batch[] {
  const series = `${label}-${randomBytes(3).toString("hex")}`;
  const batches: Batch[] = [];
  for (let start = 0; start < count; start += perBatch) {
    const entryIds: string[] = [];
    for (let n = start; n < Math.min(count, start + perBatch); n++) entryIds.push(`${series}-${n}`);
    batches.push({
      key: `${series}-batch-${start / perBatch}`,
      body: JSON.stringify(entryIds.map(benchEntry)),
      entryIds,
    });
  }
  return batches;
}

/** The entries answered 202, and what the batches never answered 202 came to. */
export function acceptedEntries(outcomes: readonly BatchOutcome[]): {
  entryIds: string[];
  gaveUpEntries: number;
  notes: string[];
} {
  const entryIds: string[] = [];
  let gaveUpEntries = 0;
  const notes: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.accepted) entryIds.push(...outcome.batch.entryIds);
    else {
      gaveUpEntries += outcome.batch.entryIds.length;
      notes.push(
        `batch ${outcome.batch.key} given up after ${outcome.tries} tries in ${outcome.answeredAt - outcome.firstSentAt} ms: ${outcome.last}`,
      );
    }
  }
  const retried = outcomes.filter((o) => o.accepted && o.tries > 1).length;
  if (retried > 0) notes.push(`${retried} batch(es) answered 202 only after retries`);
  // How long a request is in ingest's hands: the window a kill timed on a send has to land in.
  const firstTry = outcomes
    .filter((o) => o.accepted && o.tries === 1)
    .map((o) => o.answeredAt - o.firstSentAt);
  if (firstTry.length > 0)
    notes.push(`a batch answered at the first try took ${median(firstTry)} ms (median)`);
  return { entryIds, gaveUpEntries, notes };
}

/** Two leases and 10 s: time for abandoned work to be taken over, and retried, after the last fault. */
export function quietMsOf(system: ChaosSystem): number {
  return 2 * system.lockMs + 10e3;
}

/** Waits until `done()` holds, polling every 50 ms; false after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (done()) return true;
    await sleep(50);
  }
  return done();
}
