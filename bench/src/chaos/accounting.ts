/**
 * The chaos harness's arithmetic, pure so that its test can hold it to the definitions in
 * bench/README.md ("Chaos"): what was expected, what arrived, what was lost or repeated, what a
 * fault may legitimately have sent twice, and the verdict on a scenario's row.
 */
import { deliveryIdOf } from "@hookwire/queue";
import { percentileOfSorted } from "../statistics";
import type { ArrivalTable } from "./recorder-protocol";

/** One printed row, and one object of `--json`'s `scenarios` (these keys, no others). */
export interface ScenarioRow {
  name: string;
  accepted: number;
  delivered: number;
  lost: number;
  duplicates: number;
  stuck: number;
  inFlightAtFault?: number;
  healthyP95Ms?: number | null;
  healthyAloneP95Ms?: number | null;
}

export interface Tally {
  /** Deliveries expected: distinct entries answered 202, times the hooks they go to. */
  accepted: number;
  /** Expected deliveries that arrived at least once. */
  delivered: number;
  /** Expected deliveries that never arrived. */
  lost: number;
  /** Arrivals after the first of the same delivery id, summed over every id. */
  duplicates: number;
  /** Distinct delivery ids that arrived but were not expected (an entry never answered 202). */
  unexpected: number;
  /** The expected delivery ids that never arrived, for the report. */
  lostIds: string[];
}

/** Every delivery an accepted entry owes: one per hook, with the id the worker sends. */
export function expectedDeliveries(entryIds: Iterable<string>, hookIds: readonly string[]): Set<string> {
  const expected = new Set<string>();
  for (const entryId of entryIds) for (const hookId of hookIds) expected.add(deliveryIdOf(hookId, entryId));
  return expected;
}

export function tally(expected: ReadonlySet<string>, arrivals: ArrivalTable): Tally {
  const arrived = new Set<string>();
  let duplicates = 0;
  let unexpected = 0;
  arrivals.ids.forEach((id, i) => {
    duplicates += Math.max(0, (arrivals.counts[i] ?? 1) - 1);
    if (expected.has(id)) arrived.add(id);
    else unexpected++;
  });
  const lostIds = [...expected].filter((id) => !arrived.has(id));
  return {
    accepted: expected.size,
    delivered: arrived.size,
    lost: lostIds.length,
    duplicates,
    unexpected,
    lostIds,
  };
}

/**
 * What one fault may legitimately make hookwire send again: the deliveries the receiver had
 * taken that Redis did not (durably) record as succeeded, and the deliveries of the requests
 * ingest had not answered yet (the client sends those again). Counted once each.
 */
export function inFlightAtFault(
  received: Iterable<string>,
  succeeded: ReadonlySet<string>,
  unansweredDeliveries: Iterable<string>,
): number {
  const again = new Set<string>();
  for (const id of received) if (!succeeded.has(id)) again.add(id);
  for (const id of unansweredDeliveries) again.add(id);
  return again.size;
}

/**
 * The nearest-rank p95 of the expected deliveries' latencies (arrival minus acceptedAt, ms). A
 * delivery that never arrived counts as infinitely late, so a p95 that lands on one is `null`:
 * more than 5 % never came, and no number would be honest.
 */
export function p95OfExpected(
  expected: Iterable<string>,
  arrivedAt: ReadonlyMap<string, number>,
  acceptedAt: ReadonlyMap<string, number>,
): number | null {
  const latencies: number[] = [];
  for (const id of expected) {
    const arrived = arrivedAt.get(id);
    const accepted = acceptedAt.get(id);
    latencies.push(arrived === undefined || accepted === undefined ? Infinity : arrived - accepted);
  }
  if (latencies.length === 0) return null;
  latencies.sort((a, b) => a - b);
  const p95 = percentileOfSorted(latencies, 95);
  return Number.isFinite(p95) ? p95 : null;
}

/** Beside the dead hooks, the healthy hook's p95 may be at most this many times its p95 alone. */
export const P95_RATIO_LIMIT = 2;

/** What the issue asks of every row; each problem is one short clause of the verdict line. */
export function verdictOf(row: ScenarioRow, gaveUpEntries = 0): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  if (row.lost > 0) problems.push(`${row.lost} lost`);
  if (row.stuck > 0) problems.push(`${row.stuck} stuck`);
  if (gaveUpEntries > 0) problems.push(`${gaveUpEntries} entries never answered 202 (client gave up)`);
  const allowed = row.inFlightAtFault ?? 0;
  if (row.duplicates > allowed)
    problems.push(`${row.duplicates} duplicates > ${allowed} in flight at the faults`);
  if (row.healthyAloneP95Ms !== undefined || row.healthyP95Ms !== undefined) {
    const alone = row.healthyAloneP95Ms ?? null;
    const beside = row.healthyP95Ms ?? null;
    if (alone === null || beside === null)
      problems.push("a healthy p95 could not be measured (>5 % never came)");
    else if (beside > P95_RATIO_LIMIT * Math.max(alone, 1))
      problems.push(`healthy p95 ${beside} ms > ${P95_RATIO_LIMIT}× alone (${alone} ms)`);
  }
  return { ok: problems.length === 0, problems };
}
