import { setTimeout as sleep } from "node:timers/promises";
import { type ScenarioRow, type Tally, tally } from "./accounting";
import type { Recorder } from "./recorder";
import type { ArrivalTable } from "./recorder-protocol";
import { countPending, whereabouts } from "./records";
import type { ChaosSystem } from "./system";

export interface Settled {
  arrivals: ArrivalTable;
  tally: Tally;
  /** Delivery records still `pending` when the wait ended. */
  stuck: number;
  waitedMs: number;
  /** Why the wait ended: all delivered and none pending, nothing moved for `quietMs`, or the cap. */
  ended: "complete" | "quiet" | "cap";
  /** Where a few of the deliveries that never arrived were when the wait ended (see `whereabouts`). */
  missing: string[];
}

/** A scenario's row as the settled wait counted it; the scenario adds its own columns. */
export function rowOf(name: string, settled: Settled): ScenarioRow {
  const { tally } = settled;
  return {
    name,
    accepted: tally.accepted,
    delivered: tally.delivered,
    lost: tally.lost,
    duplicates: tally.duplicates,
    stuck: settled.stuck,
  };
}

/** The note every scenario prints of its wait. */
export function settledNote(settled: Settled): string {
  const wait = `settled (${settled.ended}) in ${Math.round(settled.waitedMs / 1000)} s`;
  return settled.missing.length === 0
    ? wait
    : `${wait}; where missing ones were: ${settled.missing.join("; ")}`;
}

/** Missing deliveries whose whereabouts a wait that ended short reads. */
const MISSING_READ = 3;

const POLL_MS = 1_000;

/**
 * Waits, after the last fault, for every expected delivery to arrive and every record to leave
 * `pending`; gives up when neither count moved for `quietMs` (two leases and 10 s: long enough
 * for abandoned work to be taken over and retried) or after `capMs` in all.
 * `pendingOf`: count only these hooks' records (the healthy hooks of scenarios 6 and 7).
 */
export async function settle(options: {
  system: ChaosSystem;
  recorder: Recorder;
  expected: ReadonlySet<string>;
  pendingOf?: readonly string[];
  quietMs: number;
  capMs: number;
}): Promise<Settled> {
  const { system, recorder, expected } = options;
  const startedAt = Date.now();
  let lastChange = startedAt;
  let seen = "";
  // Bounded in count as in time: at most one poll a second until the cap.
  const maxPolls = Math.ceil(options.capMs / POLL_MS) + 1;
  for (let poll = 1; ; poll++) {
    const arrivals = await recorder.arrivals();
    const counted = tally(expected, arrivals);
    const stuck = await countPending(system.inspect, system.partitions, options.pendingOf);
    const now = Date.now();
    const state = `${counted.delivered}/${counted.duplicates}/${stuck}`;
    if (state !== seen) {
      seen = state;
      lastChange = now;
    }
    const ended =
      counted.delivered === expected.size && stuck === 0
        ? "complete"
        : now - lastChange >= options.quietMs
          ? "quiet"
          : now - startedAt >= options.capMs || poll >= maxPolls
            ? "cap"
            : undefined;
    if (ended !== undefined) {
      const missing =
        ended === "complete"
          ? []
          : await whereabouts(system.inspect, system.partitions, counted.lostIds.slice(0, MISSING_READ));
      return { arrivals, tally: counted, stuck, waitedMs: now - startedAt, ended, missing };
    }
    await sleep(POLL_MS);
  }
}
