import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ATTEMPT_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS } from "@hookwire/queue";
import type { DeliveryStatus } from "@hookwire/store";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { DeliveryObserver } from "./worker-context";

export interface WorkerMetricsOptions {
  /** Node's process metrics (CPU, memory, event loop, GC); off for tests that make many workers. */
  defaultMetrics?: boolean;
}

const ATTEMPT_OUTCOMES = ["succeeded", "retry", "failed"] as const;
const SETTLED_OUTCOMES = ["succeeded", "failed", "skipped"] as const;
/** Observations a histogram keeps in hand before they are handed to prom-client anyway. */
const HELD_OBSERVATIONS = 4_096;

/**
 * A counter's increments by outcome kept as plain numbers, handed to prom-client at a `fold`.
 * Every outcome's series is there from the start, so rate() and the dashboards see it before it
 * happens.
 */
class HeldCounts<Outcome extends string> {
  readonly #counter: Counter<"outcome">;
  readonly #outcomes: readonly Outcome[];
  readonly #counts: Record<Outcome, number>;

  constructor(counter: Counter<"outcome">, outcomes: readonly Outcome[]) {
    this.#counter = counter;
    this.#outcomes = outcomes;
    this.#counts = Object.fromEntries(outcomes.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
    for (const outcome of outcomes) counter.inc({ outcome }, 0);
  }

  add(outcome: Outcome): void {
    this.#counts[outcome]++;
  }

  fold(): void {
    for (const outcome of this.#outcomes) {
      if (this.#counts[outcome] > 0) this.#counter.inc({ outcome }, this.#counts[outcome]);
      this.#counts[outcome] = 0;
    }
  }
}

/** A histogram's observations kept as plain numbers, handed to prom-client in one loop (`fold`). */
class HeldObservations {
  readonly #histogram: Histogram;
  readonly #values = new Float64Array(HELD_OBSERVATIONS);
  #count = 0;

  constructor(histogram: Histogram) {
    this.#histogram = histogram;
  }

  add(value: number): void {
    this.#values[this.#count++] = value;
    if (this.#count === HELD_OBSERVATIONS) this.fold();
  }

  fold(): void {
    for (let i = 0; i < this.#count; i++) this.#histogram.observe(this.#values[i] as number);
    this.#count = 0;
  }
}

/**
 * The worker's Prometheus metrics, fed through the DeliveryObserver interface. Labels are
 * bounded sets (outcomes), never a hook id or a URL.
 *
 * Deliveries are counted in plain numbers and handed to prom-client when it collects (a scrape:
 * each metric's `collect` folds them all), so the exposition is prom-client's own. Its `inc` and
 * `observe` build and hash a label object and look a bucket up by key on every call: the four
 * calls each delivery made cost a draining worker about 8 % of its CPU per delivery (`npm run
 * compare -- --what drain`: 193 µs with them, 176 µs without); folded by the thousand
 * at a scrape, they cost a small part of that.
 */
export class WorkerMetrics implements DeliveryObserver {
  readonly registry = new Registry();
  readonly #deliveries: Counter<"outcome">;
  readonly #attempts: Counter<"outcome">;
  readonly #attemptDuration: Histogram;
  readonly #endToEnd: Histogram;
  readonly #hooksDisabled: Counter;
  readonly #stuck: Counter;
  /** What deliveries told since the last fold, not yet handed to prom-client. */
  readonly #attemptCounts: HeldCounts<(typeof ATTEMPT_OUTCOMES)[number]>;
  readonly #settledCounts: HeldCounts<(typeof SETTLED_OUTCOMES)[number]>;
  readonly #attemptDurations: HeldObservations;
  readonly #endToEndLatencies: HeldObservations;

  constructor(options: WorkerMetricsOptions = {}) {
    const registers = [this.registry];
    const collect = () => this.#fold();
    this.#deliveries = new Counter({
      name: "hookwire_deliveries_total",
      help: "Deliveries settled, by outcome: succeeded, failed (dead letter), skipped.",
      labelNames: ["outcome"],
      registers,
      collect,
    });
    this.#attempts = new Counter({
      name: "hookwire_delivery_attempts_total",
      help: "HTTP attempts made, by outcome: succeeded, retry (will be retried), failed (given up).",
      labelNames: ["outcome"],
      registers,
      collect,
    });
    this.#attemptDuration = new Histogram({
      name: "hookwire_delivery_attempt_duration_seconds",
      help: "Time from sending an attempt's request to its outcome.",
      buckets: [...ATTEMPT_BUCKETS_SECONDS],
      registers,
      collect,
    });
    this.#endToEnd = new Histogram({
      name: "hookwire_end_to_end_latency_seconds",
      help: "Time from ingest accepting the entry to the receiver answering 2xx, retries included.",
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
      collect,
    });
    this.#hooksDisabled = new Counter({
      name: "hookwire_hooks_disabled_total",
      help: "Hooks the worker turned off itself (410 Gone, failing for too long).",
      registers,
    });
    this.#stuck = new Counter({
      name: "hookwire_deliveries_stuck_requeued_total",
      help: "Deliveries this worker's sweeper found pending with nothing queued behind them, and queued again.",
      registers,
    });
    this.#settledCounts = new HeldCounts(this.#deliveries, SETTLED_OUTCOMES);
    this.#attemptCounts = new HeldCounts(this.#attempts, ATTEMPT_OUTCOMES);
    this.#attemptDurations = new HeldObservations(this.#attemptDuration);
    this.#endToEndLatencies = new HeldObservations(this.#endToEnd);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  attempt(info: { outcome: "succeeded" | "retry" | "failed"; durationMs: number }): void {
    this.#attemptCounts.add(info.outcome);
    this.#attemptDurations.add(info.durationMs / 1000);
  }

  settled(info: { status: DeliveryStatus; acceptedAt: number; at: number }): void {
    // A pending status never settles; the worker reports only the three final ones.
    if (info.status === "pending") return;
    this.#settledCounts.add(info.status);
    if (info.status === "succeeded")
      this.#endToEndLatencies.add(Math.max(0, info.at - info.acceptedAt) / 1000);
  }

  /** Hands every held count and observation to prom-client (before it reads them). */
  #fold(): void {
    this.#attemptCounts.fold();
    this.#settledCounts.fold();
    this.#attemptDurations.fold();
    this.#endToEndLatencies.fold();
  }

  hookDisabled(): void {
    this.#hooksDisabled.inc();
  }

  stuck(count: number): void {
    this.#stuck.inc(count);
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` (Prometheus text) and `GET /healthz` on their own port: the worker has no other
 * HTTP server, and a scrape must not wait behind deliveries.
 */
export async function startMetricsServer(
  registry: Registry,
  options: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) =>
        response
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics could not be collected: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
