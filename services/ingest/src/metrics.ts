import { MAX_JOB_DELIVERIES } from "@hookwire/queue";
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EntryResult, IntakeObserver } from "./intake";
import { HOOK_STATES, type HookState, QUEUE_STATES, type QueueSnapshot } from "./stats";

/** What ingest reads at scrape time: the queue and the hooks, shared by every gauge of one scrape. */
export interface ScrapeState {
  queue: QueueSnapshot;
  hooks: Record<HookState, number>;
  /** Deliveries the worker's sweeper found stuck (and queued again) in the last hour. */
  stuckLastHour: number;
}

export interface IngestMetricsOptions {
  /** Reads the queue's and the hooks' state: once per scrape, shared by its gauges and by scrapes at the same time. */
  readState: () => Promise<ScrapeState>;
  /** Node's process metrics (CPU, memory, event loop, GC); default true. */
  defaultMetrics?: boolean;
}

/**
 * Answers to `POST /v1/entries` that turn entries away. Not counted: 401/403 (no entries were
 * received from anyone entitled to send them) and 409 (a repeat of a request still running).
 */
const ENTRY_REFUSALS: Partial<Record<number, "invalid" | "refused">> = {
  400: "invalid",
  413: "invalid",
  415: "invalid",
  429: "refused",
  503: "refused",
};

const HTTP_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Ingest's Prometheus metrics. Counters move as entries come in; the queue and hook gauges are
 * read when Prometheus scrapes. Labels are bounded sets, never a hook id or a URL.
 */
export class IngestMetrics implements IntakeObserver {
  readonly registry = new Registry();
  readonly #entries: Counter<"outcome">;
  readonly #routing: Counter<"outcome">;
  readonly #deliveries: Counter<"outcome">;
  readonly #requests: Histogram<"method" | "route" | "status_code">;
  readonly #readState: () => Promise<ScrapeState>;
  #reading: Promise<ScrapeState | undefined> | undefined;

  constructor(options: IngestMetricsOptions) {
    const registers = [this.registry];
    this.#readState = options.readState;
    this.#entries = new Counter({
      name: "hookwire_entries_received_total",
      help: "Entries posted to /v1/entries, by outcome: accepted, duplicate (seen before), invalid, refused (overloaded or rate-limited). A request whose body was not read counts as one.",
      labelNames: ["outcome"],
      registers,
    });
    this.#routing = new Counter({
      name: "hookwire_routing_decisions_total",
      help: "Each accepted entry meeting each enabled hook, by outcome: queued, filtered (the policy said no), skipped, render_failed.",
      labelNames: ["outcome"],
      registers,
    });
    this.#deliveries = new Counter({
      name: "hookwire_deliveries_total",
      help: "Deliveries settled, by outcome. Ingest settles those that never reach the queue (render failures, empty bodies); the worker settles the rest.",
      labelNames: ["outcome"],
      registers,
    });
    this.#requests = new Histogram({
      name: "hookwire_http_request_duration_seconds",
      help: "Time to answer an API request, by method, route pattern and status code.",
      labelNames: ["method", "route", "status_code"],
      buckets: HTTP_BUCKETS_SECONDS,
      registers,
    });
    const state = () => this.#freshState();
    new Gauge({
      name: "hookwire_queue_jobs",
      help: `Jobs on the delivery queue by state (a job carries up to ${MAX_JOB_DELIVERIES} deliveries).`,
      labelNames: ["state"],
      registers,
      async collect() {
        const read = await state();
        if (read === undefined) return;
        for (const name of QUEUE_STATES) this.set({ state: name }, read.queue.jobs[name]);
      },
    });
    new Gauge({
      name: "hookwire_queue_oldest_waiting_age_seconds",
      help: "How long the oldest waiting job has been due; 0 when none waits.",
      registers,
      async collect() {
        const read = await state();
        if (read !== undefined) this.set(read.queue.oldestWaitingAgeSeconds);
      },
    });
    new Gauge({
      name: "hookwire_hooks",
      help: "Hooks by state: enabled, circuit_open (the receiver keeps failing; sends paused), disabled (turned off).",
      labelNames: ["state"],
      registers,
      async collect() {
        const read = await state();
        if (read === undefined) return;
        for (const name of HOOK_STATES) this.set({ state: name }, read.hooks[name]);
      },
    });
    new Gauge({
      name: "hookwire_deliveries_stuck",
      help: "Deliveries found pending past their next attempt with nothing queued behind them, and queued again, in the last hour (from the per-minute stats in Redis; 0 is healthy).",
      registers,
      async collect() {
        const read = await state();
        if (read !== undefined) this.set(read.stuckLastHour);
      },
    });
    for (const outcome of ["accepted", "duplicate", "invalid", "refused"]) this.#entries.inc({ outcome }, 0);
    for (const outcome of ["queued", "filtered", "skipped", "render_failed"])
      this.#routing.inc({ outcome }, 0);
    for (const outcome of ["failed", "skipped"]) this.#deliveries.inc({ outcome }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Intake accepted these entries (their deliveries are in Redis). */
  accepted(results: readonly EntryResult[]): void {
    // Counted here first and given to prom-client once per outcome: a request of 100 entries for
    // ten hooks would otherwise be a thousand label hashes.
    let duplicates = 0;
    const routed = new Map<string, number>();
    let failed = 0;
    let skipped = 0;
    for (const entry of results) {
      if (entry.duplicate) {
        duplicates++;
        continue;
      }
      for (const hook of entry.hooks) {
        routed.set(hook.outcome, (routed.get(hook.outcome) ?? 0) + 1);
        // A delivery id means a delivery record exists; without one the hook was never a candidate.
        if (hook.deliveryId === undefined) continue;
        if (hook.outcome === "render_failed") failed++;
        else if (hook.outcome === "skipped") skipped++;
      }
    }
    for (const [outcome, count] of routed) this.#routing.inc({ outcome }, count);
    if (failed > 0) this.#deliveries.inc({ outcome: "failed" }, failed);
    if (skipped > 0) this.#deliveries.inc({ outcome: "skipped" }, skipped);
    if (results.length > duplicates) this.#entries.inc({ outcome: "accepted" }, results.length - duplicates);
    if (duplicates > 0) this.#entries.inc({ outcome: "duplicate" }, duplicates);
  }

  /** Times every request, and counts the entries of refused or invalid posts. */
  observeRequests(app: FastifyInstance): void {
    app.addHook("onResponse", async (request, reply) => {
      const route = request.routeOptions.url ?? "unmatched";
      const labels = { method: request.method, route, status_code: String(reply.statusCode) };
      this.#requests.observe(labels, reply.elapsedTime / 1e3);
      if (route !== "/v1/entries" || request.method !== "POST") return;
      const outcome = ENTRY_REFUSALS[reply.statusCode];
      if (outcome === undefined) return;
      this.#entries.inc({ outcome }, Array.isArray(request.body) ? Math.max(1, request.body.length) : 1);
    });
  }

  /** One reading for all the gauges of a scrape (they collect together), and for concurrent scrapes. */
  #freshState(): Promise<ScrapeState | undefined> {
    this.#reading ??= this.#readState()
      // Redis away: the gauges keep their last values rather than failing the whole scrape.
      .catch(() => undefined)
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }
}
