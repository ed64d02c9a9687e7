import { postClosed, postOpen } from "./ingest-client";
import { type Pauses, watchPauses } from "./pauses";
import type { Receiver } from "./receiver";
import { type LatencySummary, median, perSecond, summariseLatencies } from "./statistics";
import type { SystemUnderTest } from "./system-under-test";
import { entryBatches } from "./workload";

/** Entries per request in the throughput runs, as the issue asks. */
const ENTRIES_PER_REQUEST = 100;
/** Requests in flight to ingest in the throughput runs: enough to keep its two cores busy. */
const POST_CONCURRENCY = 4;
/** Deliveries per second the latency runs offer, as the targets are set. */
export const OFFERED_DPS = 1_000;
/** Deliveries per request in the latency runs, whatever H: the same bursts for H = 1 and H = 10. */
const DELIVERIES_PER_REQUEST = 100;

export interface ThroughputResult {
  /** Entries accepted per second: from the first POST to the last 202. */
  eps: number;
  /** Deliveries per second: from the first POST to the last request at the receiver. */
  dps: number;
  entries: number;
  deliveries: number;
  runs: { eps: number; dps: number }[];
}

/**
 * Closed-model throughput: `entries` posted in requests of 100, four in flight, each entry going
 * to the `hooks` healthy hooks already set; every delivery must reach the receiver. Medians of
 * `runs` runs after a warm-up.
 */
export async function runThroughput(
  system: SystemUnderTest,
  receiver: Receiver,
  label: string,
  options: { hooks: number; entries: number; warmUpEntries: number; runs: number; timeoutMs: number },
): Promise<ThroughputResult> {
  const once = async (run: string, entries: number) => {
    const { bodies } = entryBatches(`${label}-${run}`, entries, ENTRIES_PER_REQUEST);
    await receiver.reset();
    const posted = await postClosed(system.client, bodies, POST_CONCURRENCY);
    const arrival = await receiver.waitFor(entries * options.hooks, options.timeoutMs);
    return {
      eps: perSecond(entries, posted.lastAcceptedAt - posted.startedAt),
      dps: perSecond(entries * options.hooks, arrival.lastAt - posted.startedAt),
    };
  };
  if (options.warmUpEntries > 0) await once("warm", options.warmUpEntries);
  const runs: { eps: number; dps: number }[] = [];
  for (let run = 0; run < options.runs; run++) runs.push(await once(String(run), options.entries));
  return {
    eps: median(runs.map((r) => r.eps)),
    dps: median(runs.map((r) => r.dps)),
    entries: options.entries,
    deliveries: options.entries * options.hooks,
    runs,
  };
}

export interface LatencyResult extends LatencySummary {
  offeredDps: number;
  /** How long ingest took to answer 202 (the part of the latency spent before the queue), p50/p95. */
  answerP50Ms: number;
  answerP95Ms: number;
  /** Deliveries of the run whose acceptance time was not found (should be 0). */
  unmatched: number;
  /** Each service's event loop delay and collector pauses while the run was posted. */
  ingestPauses: Pauses;
  workerPauses: Pauses;
}

/**
 * Open-model latency: `deliveriesPerSecond` offered in requests of 100 deliveries (100 / hooks
 * entries each) sent on a fixed schedule whatever the answers; latency is the receiver's arrival
 * time minus the `acceptedAt` ingest recorded for the delivery (both Date.now() on this machine).
 */
export async function runLatency(
  system: SystemUnderTest,
  receiver: Receiver,
  label: string,
  options: {
    hooks: number;
    deliveriesPerSecond: number;
    durationMs: number;
    warmUpMs: number;
    timeoutMs: number;
  },
): Promise<LatencyResult> {
  const entriesPerRequest = Math.max(1, Math.round(DELIVERIES_PER_REQUEST / options.hooks));
  const perRequest = entriesPerRequest * options.hooks;
  const intervalMs = (1000 * perRequest) / options.deliveriesPerSecond;
  const requests = (durationMs: number) => Math.max(1, Math.round(durationMs / intervalMs));

  const warm = entryBatches(
    `${label}-warm`,
    requests(options.warmUpMs) * entriesPerRequest,
    entriesPerRequest,
  );
  await receiver.reset();
  await postOpen(system.client, warm.bodies, intervalMs);
  await receiver.waitFor(warm.entries * options.hooks, options.timeoutMs);

  const measured = entryBatches(
    `${label}-run`,
    requests(options.durationMs) * entriesPerRequest,
    entriesPerRequest,
  );
  await receiver.reset(true);
  const watched = await Promise.all([
    watchPauses(system.ingestMetricsUrl),
    watchPauses(system.workerMetricsUrl),
  ]);
  const posted = await postOpen(system.client, measured.bodies, intervalMs);
  const [ingestPauses, workerPauses] = await Promise.all(watched.map((watch) => watch.end()));
  const answers = summariseLatencies(posted.answerMs ?? []);
  await receiver.waitFor(measured.entries * options.hooks, options.timeoutMs);
  const { ids, arrivals } = await receiver.samples();
  const acceptedAt = await system.acceptedAt(ids);
  const latencies: number[] = [];
  ids.forEach((id, i) => {
    const accepted = acceptedAt.get(id);
    if (accepted !== undefined) latencies.push(arrivals[i]! - accepted);
  });
  return {
    ...summariseLatencies(latencies),
    offeredDps: options.deliveriesPerSecond,
    answerP50Ms: answers.p50Ms,
    answerP95Ms: answers.p95Ms,
    unmatched: ids.length - latencies.length,
    ingestPauses: ingestPauses as Pauses,
    workerPauses: workerPauses as Pauses,
  };
}
