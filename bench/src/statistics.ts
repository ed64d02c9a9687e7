/**
 * The few statistics the harness reports: medians of repeated runs, latency percentiles, rates.
 * Pure functions, so the smoke test can hold them to their definitions.
 */

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The nearest-rank percentile of already sorted values: the smallest value that at least `p`
 * percent of the values do not exceed. NaN for none. Nearest rank, not interpolation: a p99 of
 * 40 ms means 99 % of the deliveries really arrived within 40 ms.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summariseLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const values = Array.from(sorted);
  return {
    count: values.length,
    p50Ms: percentileOfSorted(values, 50),
    p95Ms: percentileOfSorted(values, 95),
    p99Ms: percentileOfSorted(values, 99),
    maxMs: values.length === 0 ? Number.NaN : values[values.length - 1]!,
  };
}

/** Events per second over a span of milliseconds; 0 for an empty or negative span. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

export interface PairedQuotients {
  median: number;
  low: number;
  high: number;
  /** Rounds in which B came out better than A. */
  better: number;
  rounds: number;
}

/**
 * B over A within each round of an A/B run (the two measured back to back, under the same
 * neighbours): the median of those quotients, their range, and in how many rounds B was `better`
 * (a higher or lower value). A difference that holds in most rounds is the change's; one that
 * flips from round to round is the machine's. Rounds missing either value are left out.
 */
export function pairedQuotients(
  a: readonly number[],
  b: readonly number[],
  better: "higher" | "lower",
): PairedQuotients {
  const quotients: number[] = [];
  a.forEach((value, round) => {
    const other = b[round];
    if (other !== undefined && Number.isFinite(value) && Number.isFinite(other) && value !== 0)
      quotients.push(other / value);
  });
  return {
    median: median(quotients),
    low: quotients.length === 0 ? Number.NaN : Math.min(...quotients),
    high: quotients.length === 0 ? Number.NaN : Math.max(...quotients),
    better: quotients.filter((q) => (better === "higher" ? q > 1 : q < 1)).length,
    rounds: quotients.length,
  };
}
