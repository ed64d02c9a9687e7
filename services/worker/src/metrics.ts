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

/**
 * The worker's Prometheus metrics, fed through the DeliveryObserver interface. Labels are
 * bounded sets (outcomes), never a hook id or a URL.
 */
export class WorkerMetrics implements DeliveryObserver {
  readonly registry = new Registry();
  readonly #deliveries: Counter<"outcome">;
  readonly #attempts: Counter<"outcome">;
  readonly #attemptDuration: Histogram;
  readonly #endToEnd: Histogram;
  readonly #hooksDisabled: Counter;
  readonly #stuck: Counter;

  constructor(options: WorkerMetricsOptions = {}) {
    const registers = [this.registry];
    this.#deliveries = new Counter({
      name: "hookwire_deliveries_total",
      help: "Deliveries settled, by outcome: succeeded, failed (dead letter), skipped.",
      labelNames: ["outcome"],
      registers,
    });
    this.#attempts = new Counter({
      name: "hookwire_delivery_attempts_total",
      help: "HTTP attempts made, by outcome: succeeded, retry (will be retried), failed (given up).",
      labelNames: ["outcome"],
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: "hookwire_delivery_attempt_duration_seconds",
      help: "Time from sending an attempt's request to its outcome.",
      buckets: [...ATTEMPT_BUCKETS_SECONDS],
      registers,
    });
    this.#endToEnd = new Histogram({
      name: "hookwire_end_to_end_latency_seconds",
      help: "Time from ingest accepting the entry to the receiver answering 2xx, retries included.",
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
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
    // Zero series from the start, so rate() and the dashboards see every outcome before it happens.
    for (const outcome of ["succeeded", "failed", "skipped"]) this.#deliveries.inc({ outcome }, 0);
    for (const outcome of ["succeeded", "retry", "failed"]) this.#attempts.inc({ outcome }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  attempt(info: { outcome: "succeeded" | "retry" | "failed"; durationMs: number }): void {
    this.#attempts.inc({ outcome: info.outcome });
    this.#attemptDuration.observe(info.durationMs / 1000);
  }

  settled(info: { status: DeliveryStatus; acceptedAt: number; at: number }): void {
    // A pending status never settles; the worker reports only the three final ones.
    if (info.status === "pending") return;
    this.#deliveries.inc({ outcome: info.status });
    if (info.status === "succeeded") this.#endToEnd.observe(Math.max(0, info.at - info.acceptedAt) / 1000);
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
