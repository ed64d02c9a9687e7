import { type MetricsServer, startMetricsServer } from "@hookwire/worker";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// Prometheus metrics from ingest (/metrics) and the worker (its own port), and GET /v1/stats:
// after a known set of deliveries (2 succeed, 1 is refused with 400) both say the same thing.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  text: string;
}

/** Parses Prometheus' text exposition format: `# TYPE` lines and `name{labels} value` samples. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === "" || line.startsWith("#")) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? "").matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key!] = value!;
    }
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { types, samples, text };
}

/** The value of one series; 0 when it is absent (a counter not yet moved). */
function seriesValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

/** histogram_quantile as Prometheus computes it, from the cumulative `_bucket` series, in ms. */
function histogramQuantileMs(exposition: Exposition, name: string, q: number): number {
  const buckets = exposition.samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({
      le: s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le),
      count: s.value,
    }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of buckets) {
    if (bucket.count >= rank && bucket.count > previous.count) {
      if (!Number.isFinite(bucket.le)) return previous.le * 1e3;
      const within = (rank - previous.count) / (bucket.count - previous.count);
      return Math.round((previous.le + (bucket.le - previous.le) * within) * 1e5) / 100;
    }
    previous = bucket;
  }
  return Number.NaN;
}

describe("metrics and stats after 2 deliveries succeed and 1 fails", () => {
  let system: System;
  let receiver: Receiver;
  let workerMetrics: MetricsServer;
  let hookId: string;
  let ingestBefore: Exposition;
  let workerBefore: Exposition;
  let ingestAfter: Exposition;
  let workerAfter: Exposition;
  const refused = "metrics-refused-0001";
  const entries = [refused, "metrics-ok-0001", "metrics-ok-0002"];

  const scrape = async (url: string) => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };
  const scrapeIngest = () => scrape(`${system.baseUrl}/metrics`);
  const scrapeWorker = () => scrape(`http://127.0.0.1:${workerMetrics.port}/metrics`);

  beforeAll(async () => {
    receiver = await startReceiver((request, response) => {
      if (JSON.parse(request.body)._id === refused) {
        response.writeHead(400, { "content-type": "application/json" }).end('{"error":"unknown project"}');
      } else response.writeHead(200).end("ok");
    });
    system = await startSystem({ label: "metrics" });
    workerMetrics = await startMetricsServer(system.worker!.metrics.registry, { host: "127.0.0.1", port: 0 });
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "metrics receiver",
      formVariables: { url: `${receiver.url}/hook` },
      // One attempt at a time, in the batch's order: the refused entry settles first, for sure.
      delivery: { concurrency: 1 },
    });
    expect(created.status).toBe(201);
    hookId = created.json.id;

    ingestBefore = await scrapeIngest();
    workerBefore = await scrapeWorker();
    // One request, so one job: the refused entry settles first, the two others after it.
    const posted = await system.api(
      "POST",
      "/v1/entries",
      entries.map((id) => entryFixture("flag-toggle", { _id: id })),
    );
    expect(posted.status).toBe(202);
    await eventually(
      async () => {
        const statuses = await Promise.all(
          entries.map(async (id) => (await system.api("GET", `/v1/deliveries/${hookId}.${id}`)).json?.status),
        );
        return statuses.every((s) => s === "succeeded" || s === "failed");
      },
      10_000,
      "all three deliveries settled",
    );
    await eventually(async () => (await system.pendingJobs()) === 0, 10_000, "queue drained");
    ingestAfter = await scrapeIngest();
    workerAfter = await scrapeWorker();
  });

  afterAll(async () => {
    await workerMetrics?.close();
    await system?.close();
    await receiver?.close();
  });

  test("ingest exposes its metrics with the right types, and Node's", () => {
    const { types } = ingestAfter;
    expect(types.get("hookwire_entries_received_total")).toBe("counter");
    expect(types.get("hookwire_routing_decisions_total")).toBe("counter");
    expect(types.get("hookwire_deliveries_total")).toBe("counter");
    expect(types.get("hookwire_queue_jobs")).toBe("gauge");
    expect(types.get("hookwire_queue_oldest_waiting_age_seconds")).toBe("gauge");
    expect(types.get("hookwire_hooks")).toBe("gauge");
    expect(types.get("hookwire_http_request_duration_seconds")).toBe("histogram");
    expect(types.get("process_cpu_user_seconds_total")).toBe("counter");
    expect(types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
    expect(types.get("process_resident_memory_bytes")).toBe("gauge");
  });

  test("the worker exposes its metrics with the right types, and Node's", () => {
    const { types } = workerAfter;
    expect(types.get("hookwire_deliveries_total")).toBe("counter");
    expect(types.get("hookwire_delivery_attempts_total")).toBe("counter");
    expect(types.get("hookwire_delivery_attempt_duration_seconds")).toBe("histogram");
    expect(types.get("hookwire_end_to_end_latency_seconds")).toBe("histogram");
    expect(types.get("process_cpu_user_seconds_total")).toBe("counter");
    expect(types.get("nodejs_heap_size_used_bytes")).toBe("gauge");
  });

  test("counters moved by exactly the deliveries made", () => {
    const moved = (
      before: Exposition,
      after: Exposition,
      name: string,
      labels: Record<string, string> = {},
    ) => seriesValue(after, name, labels) - seriesValue(before, name, labels);
    expect(moved(ingestBefore, ingestAfter, "hookwire_entries_received_total", { outcome: "accepted" })).toBe(
      3,
    );
    expect(
      moved(ingestBefore, ingestAfter, "hookwire_entries_received_total", { outcome: "duplicate" }),
    ).toBe(0);
    expect(moved(ingestBefore, ingestAfter, "hookwire_routing_decisions_total", { outcome: "queued" })).toBe(
      3,
    );
    expect(moved(workerBefore, workerAfter, "hookwire_deliveries_total", { outcome: "succeeded" })).toBe(2);
    expect(moved(workerBefore, workerAfter, "hookwire_deliveries_total", { outcome: "failed" })).toBe(1);
    expect(moved(workerBefore, workerAfter, "hookwire_deliveries_total", { outcome: "skipped" })).toBe(0);
    expect(
      moved(workerBefore, workerAfter, "hookwire_delivery_attempts_total", { outcome: "succeeded" }),
    ).toBe(2);
    expect(moved(workerBefore, workerAfter, "hookwire_delivery_attempts_total", { outcome: "failed" })).toBe(
      1,
    );
    expect(moved(workerBefore, workerAfter, "hookwire_delivery_attempts_total", { outcome: "retry" })).toBe(
      0,
    );
    expect(moved(workerBefore, workerAfter, "hookwire_delivery_attempt_duration_seconds_count")).toBe(3);
    expect(moved(workerBefore, workerAfter, "hookwire_end_to_end_latency_seconds_count")).toBe(2);
  });

  test("the gauges read the queue and the hooks at scrape time", () => {
    expect(seriesValue(ingestAfter, "hookwire_hooks", { state: "enabled" })).toBe(1);
    expect(seriesValue(ingestAfter, "hookwire_hooks", { state: "circuit_open" })).toBe(0);
    expect(seriesValue(ingestAfter, "hookwire_hooks", { state: "disabled" })).toBe(0);
    // A dead-lettered delivery is not a failed job: BullMQ's failed set stays apart from the store's.
    for (const state of ["waiting", "active", "delayed", "failed"]) {
      expect(
        ingestAfter.samples.some((s) => s.name === "hookwire_queue_jobs" && s.labels.state === state),
      ).toBe(true);
      expect(seriesValue(ingestAfter, "hookwire_queue_jobs", { state })).toBe(0);
    }
    expect(seriesValue(ingestAfter, "hookwire_queue_oldest_waiting_age_seconds")).toBe(0);
  });

  test("no label names a hook, an entry or a URL", () => {
    for (const exposition of [ingestAfter, workerAfter]) {
      expect(exposition.text).not.toContain(hookId);
      expect(exposition.text).not.toContain(receiver.url);
      expect(exposition.text).not.toContain("metrics-ok-0001");
    }
  });

  test("GET /v1/stats agrees with the counters, the histograms and the hooks' health", async () => {
    const { status, json: stats } = await system.api("GET", "/v1/stats");
    expect(status).toBe(200);
    const value = (name: string, labels: Record<string, string> = {}) =>
      seriesValue(workerAfter, name, labels);
    expect(stats.totals.deliveries).toEqual({
      succeeded: value("hookwire_deliveries_total", { outcome: "succeeded" }),
      failed: value("hookwire_deliveries_total", { outcome: "failed" }),
      skipped: value("hookwire_deliveries_total", { outcome: "skipped" }),
      // Not an outcome: deliveries a sweeper found stuck and queued again.
      stuck: 0,
    });
    expect(stats.totals.deliveries).toEqual({ succeeded: 2, failed: 1, skipped: 0, stuck: 0 });
    expect(stats.totals.attempts).toEqual({ succeeded: 2, retry: 0, failed: 1 });

    const perMinute = stats.minutes.reduce(
      (sum: number, m: { deliveries: { succeeded: number } }) => sum + m.deliveries.succeeded,
      0,
    );
    expect(stats.minutes).toHaveLength(60);
    expect(perMinute).toBe(2);

    // The same buckets behind both: the percentiles are the ones Prometheus would compute.
    const e2e = "hookwire_end_to_end_latency_seconds";
    expect(stats.latencyMs.endToEnd.count).toBe(value(`${e2e}_count`));
    expect(stats.latencyMs.endToEnd.p50).toBeCloseTo(histogramQuantileMs(workerAfter, e2e, 0.5), 1);
    expect(stats.latencyMs.endToEnd.p99).toBeCloseTo(histogramQuantileMs(workerAfter, e2e, 0.99), 1);
    const attempt = "hookwire_delivery_attempt_duration_seconds";
    expect(stats.latencyMs.attempt.count).toBe(value(`${attempt}_count`));
    expect(stats.latencyMs.attempt.p95).toBeCloseTo(histogramQuantileMs(workerAfter, attempt, 0.95), 1);

    expect(stats.queue.jobs).toMatchObject({ waiting: 0, active: 0, delayed: 0 });
    expect(stats.hooks).toHaveLength(1);
    const [hook] = stats.hooks;
    expect(hook).toMatchObject({
      id: hookId,
      name: "metrics receiver",
      state: "enabled",
      lastHour: { succeeded: 2, failed: 1 },
      health: { circuit: "closed", consecutiveFailures: 0 },
    });
    expect(Date.parse(hook.health.lastSuccessAt)).toBeGreaterThanOrEqual(
      Date.parse(hook.health.lastFailureAt),
    );
    expect(hook.health.lastFailureReason).toMatch(/400/);
  });

  test("/v1/stats needs a key with the read scope", async () => {
    const response = await fetch(`${system.baseUrl}/v1/stats`);
    expect(response.status).toBe(401);
  });

  test("entries turned away are counted as invalid", async () => {
    const before = seriesValue(await scrapeIngest(), "hookwire_entries_received_total", {
      outcome: "invalid",
    });
    const posted = await system.api("POST", "/v1/entries", [{ kind: "flag" }, { kind: "flag" }]);
    expect(posted.status).toBe(400);
    const after = seriesValue(await scrapeIngest(), "hookwire_entries_received_total", {
      outcome: "invalid",
    });
    expect(after - before).toBe(2);
  });

  test("every delivery log line is JSON naming the delivery, the hook and the entry", () => {
    const lines = system.logLines.flatMap((chunk) => chunk.split("\n").filter((l) => l !== ""));
    const deliveryLines = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.deliveryId !== undefined || /deliver/i.test(String(line.msg)));
    // Debug level: the two successes log "delivery settled", the refusal logs "delivery failed".
    expect(deliveryLines.length).toBeGreaterThanOrEqual(3);
    for (const line of deliveryLines) {
      if (line.jobId !== undefined) continue; // a whole job's line (many deliveries) names its job and hook
      expect(line).toMatchObject({
        deliveryId: expect.any(String),
        hookId: expect.any(String),
        entryId: expect.any(String),
      });
    }
    const refusal = deliveryLines.find((line) => line.entryId === refused);
    expect(refusal).toMatchObject({
      level: 40,
      deliveryId: `${hookId}.${refused}`,
      hookId,
      status: "failed",
    });
  });
});
