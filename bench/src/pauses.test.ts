import { expect, test } from "vitest";
import { pausesBetween, readSample } from "./pauses";

const scrape = (
  p99: number,
  max: number,
  minorCount: number,
  minorSum: number,
) => `# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.
# TYPE nodejs_eventloop_lag_p99_seconds gauge
nodejs_eventloop_lag_p99_seconds ${p99}
nodejs_eventloop_lag_max_seconds ${max}
nodejs_eventloop_lag_p50_seconds 0.0101
nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3
nodejs_gc_duration_seconds_sum{kind="minor"} ${minorSum}
nodejs_gc_duration_seconds_count{kind="minor"} ${minorCount}
nodejs_gc_duration_seconds_sum{kind="major"} 0.5
nodejs_gc_duration_seconds_count{kind="major"} 2
`;

test("a stretch's pauses: the loop's delay as last scraped, the collector's by difference over the wall time", () => {
  const start = readSample(scrape(0.02, 0.05, 100, 0.3), 10_000);
  const last = readSample(scrape(0.012, 0.031, 160, 0.42), 12_000);
  expect(pausesBetween(start, last)).toEqual({
    loopP99Ms: 12,
    loopMaxMs: 31,
    gcCount: 60,
    gcMs: expect.closeTo(120, 6),
    gcShare: expect.closeTo(0.06, 6),
  });
});
