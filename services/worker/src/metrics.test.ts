import { expect, test } from "vitest";
import { WorkerMetrics } from "./metrics";

/** One series' value in a text exposition; undefined when the series is not there. */
function series(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test("a scrape counts every attempt and settled delivery made before it, past the held observations too", async () => {
  const metrics = new WorkerMetrics({ defaultMetrics: false });
  // More than a histogram holds before it hands its observations over (4 096), and a few more.
  for (let i = 0; i < 5_000; i++) metrics.attempt({ outcome: "succeeded", durationMs: 2 });
  for (let i = 0; i < 3; i++) metrics.attempt({ outcome: "retry", durationMs: 2_000 });
  for (let i = 0; i < 4_100; i++) metrics.settled({ status: "succeeded", acceptedAt: 1_000, at: 1_050 });
  metrics.settled({ status: "skipped", acceptedAt: 1_000, at: 1_050 });
  metrics.settled({ status: "pending", acceptedAt: 1_000, at: 1_050 });

  const text = await metrics.registry.metrics();
  expect(series(text, 'hookwire_delivery_attempts_total{outcome="succeeded"}')).toBe(5_000);
  expect(series(text, 'hookwire_delivery_attempts_total{outcome="retry"}')).toBe(3);
  expect(series(text, 'hookwire_delivery_attempts_total{outcome="failed"}')).toBe(0);
  expect(series(text, "hookwire_delivery_attempt_duration_seconds_count")).toBe(5_003);
  expect(series(text, "hookwire_delivery_attempt_duration_seconds_sum")).toBeCloseTo(
    5_000 * 0.002 + 3 * 2,
    6,
  );
  expect(series(text, 'hookwire_delivery_attempt_duration_seconds_bucket{le="+Inf"}')).toBe(5_003);
  expect(series(text, 'hookwire_deliveries_total{outcome="succeeded"}')).toBe(4_100);
  expect(series(text, 'hookwire_deliveries_total{outcome="skipped"}')).toBe(1);
  expect(series(text, "hookwire_end_to_end_latency_seconds_count")).toBe(4_100);
  expect(series(text, "hookwire_end_to_end_latency_seconds_sum")).toBeCloseTo(4_100 * 0.05, 6);
});

test("a second scrape adds what came after the first, and counts nothing twice", async () => {
  const metrics = new WorkerMetrics({ defaultMetrics: false });
  metrics.attempt({ outcome: "failed", durationMs: 10 });
  metrics.settled({ status: "failed", acceptedAt: 0, at: 10 });
  await metrics.registry.metrics();
  metrics.attempt({ outcome: "failed", durationMs: 30 });

  const text = await metrics.registry.metrics();
  expect(series(text, 'hookwire_delivery_attempts_total{outcome="failed"}')).toBe(2);
  expect(series(text, "hookwire_delivery_attempt_duration_seconds_count")).toBe(2);
  expect(series(text, "hookwire_delivery_attempt_duration_seconds_sum")).toBeCloseTo(0.04, 9);
  expect(series(text, 'hookwire_deliveries_total{outcome="failed"}')).toBe(1);
  // A failed delivery is not an end-to-end latency: only succeeded ones are.
  expect(series(text, "hookwire_end_to_end_latency_seconds_count")).toBe(0);
});
