import {
  ATTEMPT_BUCKETS_SECONDS,
  type DeliveryJobData,
  type Keyspace,
  LATENCY_BUCKETS_SECONDS,
  type Partitions,
  type RedisPersistence,
  STATS_STUCK_FIELD,
  STATS_TTL_MS,
} from "@hookwire/queue";
import type { HealthView, Hook, HookStore } from "@hookwire/store";
import type { Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import type { EntryResult } from "./intake";

/**
 * The reading side of the per-minute delivery stats the workers keep in Redis (layout at
 * `keyspace().statsMinute`), plus the queue's and the hooks' state now. Ingest and workers are
 * separate processes: these shared counts are what lets `GET /v1/stats` see every worker.
 */

/** Minutes `GET /v1/stats` covers, the current one included. */
export const STATS_WINDOW_MINUTES = 60;
const MINUTE_MS = 60e3;

/** The BullMQ states ingest reports; completed jobs are removed at once, so they are not among them. */
export const QUEUE_STATES = ["waiting", "prioritized", "active", "delayed", "failed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** A hook's state for `hookwire_hooks{state}`: each hook is in exactly one. */
export const HOOK_STATES = ["enabled", "circuit_open", "disabled"] as const;
export type HookState = (typeof HOOK_STATES)[number];

export interface Percentiles {
  count: number;
  meanMs: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface DeliveryCounts {
  succeeded: number;
  failed: number;
  skipped: number;
  /**
   * Deliveries the worker's sweeper found pending past their next attempt with nothing queued
   * behind them, and queued again (not settled: they count again once they are).
   */
  stuck: number;
}

/** The minute-hash field the sweeper counts stuck deliveries in (HINCRBY). */

export interface AttemptCounts {
  succeeded: number;
  retry: number;
  failed: number;
}

export interface MinuteStats {
  /** Start of the minute (ISO 8601). */
  at: string;
  /** Seconds of the minute that have passed: 60, except for the current minute. */
  seconds: number;
  deliveries: DeliveryCounts;
  attempts: AttemptCounts;
  /** Entry accepted → receiver answered 2xx, in ms; null when nothing succeeded that minute. */
  latencyMs: Percentiles | null;
  /** One HTTP attempt, in ms. */
  attemptMs: Percentiles | null;
  /** The queue's depth as last sampled by a worker that minute; null when none was. */
  queue: Partial<Record<QueueState, number>> | null;
}

export interface QueueSnapshot {
  jobs: Record<QueueState, number>;
  /** How long the oldest waiting job has been due, in seconds; 0 when none waits. */
  oldestWaitingAgeSeconds: number;
}

/** A hook's health as the API shows it (the store's codec reads the hash). */
export type HookHealthView = HealthView;

export interface HookStats {
  id: string;
  name: string;
  integration: string;
  on: boolean;
  state: HookState;
  disabled?: { reason: string; at: string };
  health: HookHealthView;
  /** Deliveries settled in the window. */
  lastHour: { succeeded: number; failed: number };
  /** An ordered hook's deliveries waiting in its sequence (they are in no queue's job count). */
  orderedWaiting?: number;
}

export interface StatsReport {
  generatedAt: string;
  windowMinutes: number;
  /** Oldest first; the last is the current, partial minute. */
  minutes: MinuteStats[];
  totals: { deliveries: DeliveryCounts; attempts: AttemptCounts };
  latencyMs: { endToEnd: Percentiles | null; attempt: Percentiles | null };
  queue: QueueSnapshot;
  hooks: HookStats[];
  /** What Redis keeps on disk; null when it has not answered yet. */
  redis: { persistence: RedisPersistence | null };
}

/** Counts by upper bound (seconds, Infinity last), not cumulative, plus the sum in ms. */
interface Histogram {
  buckets: Map<number, number>;
  sumMs: number;
}

interface MinuteCounts {
  deliveries: DeliveryCounts;
  attempts: AttemptCounts;
  latency: Histogram;
  attempt: Histogram;
  hooks: Map<string, { succeeded: number; failed: number }>;
  queue: Partial<Record<QueueState, number>> | null;
}

export interface StatsSources {
  redis: Redis;
  /** The minute stats are each partition's (its workers write them), summed here. */
  partitions: Partitions;
  /** Every partition's delivery queue. */
  queues: readonly Queue<DeliveryJobData>[];
  hooks: HookStore;
  /** Each hook's health hash, in the order of the ids (routes/hooks.ts reads them the same way). */
  readHealth(ids: readonly string[]): Promise<HealthView[]>;
  /** Redis' persistence settings, read now. */
  readPersistence(): Promise<RedisPersistence | null>;
}

/** The epoch minutes of the stats window ending now, oldest first. */
function windowMinutes(now: number): number[] {
  const first = Math.floor(now / MINUTE_MS) - STATS_WINDOW_MINUTES + 1;
  return Array.from({ length: STATS_WINDOW_MINUTES }, (_, i) => first + i);
}

/**
 * `read(keys, minute)` for each minute of the window, in each partition (one pipeline each: a
 * cluster's pipeline stays in one slot); the answers per minute, one per partition.
 */
async function readWindow(
  sources: StatsSources,
  now: number,
  read: (pipeline: ChainableCommander, key: string) => void,
): Promise<unknown[][]> {
  const window = windowMinutes(now);
  const answers = await Promise.all(
    sources.partitions.all.map(async ({ keys }) => {
      const pipeline = sources.redis.pipeline();
      for (const minute of window) read(pipeline, keys.statsMinute(minute));
      return ((await pipeline.exec()) ?? []).map(([error, value]) => {
        if (error !== null) throw error;
        return value;
      });
    }),
  );
  return window.map((_, i) => answers.map((partition) => partition[i]));
}

export async function readStats(sources: StatsSources, now = Date.now()): Promise<StatsReport> {
  const first = windowMinutes(now)[0] ?? 0;
  const [answers, queue, hooks, persistence] = await Promise.all([
    readWindow(sources, now, (pipeline, key) => pipeline.hgetall(key)),
    readQueue(sources.queues, now),
    sources.hooks.list(),
    sources.readPersistence(),
  ]);
  const counts = answers.map((partitions) =>
    partitions.map((raw) => parseMinute(raw as Record<string, string>)).reduce(mergeMinutes, emptyMinute()),
  );

  const minutes: MinuteStats[] = counts.map((c, i) => {
    const start = (first + i) * MINUTE_MS;
    return {
      at: new Date(start).toISOString(),
      seconds: Math.min(60, Math.max(1, Math.round((now - start) / 1000))),
      deliveries: c.deliveries,
      attempts: c.attempts,
      latencyMs: percentiles(c.latency, LATENCY_BUCKETS_SECONDS),
      attemptMs: percentiles(c.attempt, ATTEMPT_BUCKETS_SECONDS),
      queue: c.queue,
    };
  });
  const hour = counts.reduce(mergeMinutes, emptyMinute());
  return {
    generatedAt: new Date(now).toISOString(),
    windowMinutes: STATS_WINDOW_MINUTES,
    minutes,
    totals: { deliveries: hour.deliveries, attempts: hour.attempts },
    latencyMs: {
      endToEnd: percentiles(hour.latency, LATENCY_BUCKETS_SECONDS),
      attempt: percentiles(hour.attempt, ATTEMPT_BUCKETS_SECONDS),
    },
    queue,
    hooks: await hookStats(sources, hooks, hour.hooks),
    redis: { persistence },
  };
}

/** Deliveries found stuck in the stats window, for `hookwire_deliveries_stuck`: one field per minute. */
export async function readStuckLastHour(sources: StatsSources, now = Date.now()): Promise<number> {
  let stuck = 0;
  for (const minute of await readWindow(sources, now, (pipeline, key) =>
    pipeline.hget(key, STATS_STUCK_FIELD),
  )) {
    for (const value of minute) {
      const count = Number(value ?? 0);
      if (Number.isFinite(count)) stuck += count;
    }
  }
  return stuck;
}

/**
 * The queues' job counts, added up over the partitions, and the age of the oldest waiting job
 * among them: two cheap reads per partition.
 */
export async function readQueue(
  queues: readonly Queue<DeliveryJobData>[],
  now = Date.now(),
): Promise<QueueSnapshot> {
  const each = await Promise.all(queues.map((queue) => readOneQueue(queue, now)));
  const jobs = Object.fromEntries(
    QUEUE_STATES.map((state) => [state, each.reduce((sum, queue) => sum + queue.jobs[state], 0)]),
  ) as Record<QueueState, number>;
  return {
    jobs,
    oldestWaitingAgeSeconds: Math.max(0, ...each.map((queue) => queue.oldestWaitingAgeSeconds)),
  };
}

async function readOneQueue(queue: Queue<DeliveryJobData>, now: number): Promise<QueueSnapshot> {
  const counts = await queue.getJobCounts(...QUEUE_STATES);
  const jobs = Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as Record<QueueState, number>;
  let oldestWaitingAgeSeconds = 0;
  if (jobs.waiting > 0) {
    // Ascending order from index 0 is the head of the wait list: the job waiting longest.
    const [oldest] = await queue.getJobs(["waiting"], 0, 0, true);
    // A job added with a delay (a retry) has waited only since it became due.
    if (oldest)
      oldestWaitingAgeSeconds = Math.max(0, now - (oldest.timestamp + (oldest.opts.delay ?? 0))) / 1e3;
  }
  return { jobs, oldestWaitingAgeSeconds };
}

/** How many hooks are in each state, for `hookwire_hooks{state}`. */
export async function countHookStates(sources: StatsSources): Promise<Record<HookState, number>> {
  const hooks = await sources.hooks.list();
  const health = await sources.readHealth(hooks.map((h) => h.id));
  const counts: Record<HookState, number> = { enabled: 0, circuit_open: 0, disabled: 0 };
  hooks.forEach((hook, i) => {
    counts[hookState(hook, String(health[i]?.circuit ?? "closed"))]++;
  });
  return counts;
}

function hookState(hook: Hook, circuit: string): HookState {
  if (!hook.on) return "disabled";
  return circuit === "closed" ? "enabled" : "circuit_open";
}

async function hookStats(
  sources: StatsSources,
  hooks: readonly Hook[],
  hour: Map<string, { succeeded: number; failed: number }>,
): Promise<HookStats[]> {
  const [health, waiting] = await Promise.all([
    sources.readHealth(hooks.map((h) => h.id)),
    readOrderedWaiting(sources, hooks),
  ]);
  return hooks.map((hook, i) => {
    const view: HookHealthView = health[i] ?? { circuit: "closed", consecutiveFailures: 0 };
    const ordered = waiting.get(hook.id);
    return {
      id: hook.id,
      name: hook.name,
      integration: hook.integration,
      on: hook.on,
      state: hookState(hook, view.circuit),
      ...(hook.disabled ? { disabled: hook.disabled } : {}),
      health: view,
      lastHour: hour.get(hook.id) ?? { succeeded: 0, failed: 0 },
      ...(ordered === undefined ? {} : { orderedWaiting: ordered }),
    };
  });
}

/** How many deliveries wait in each ordered hook's sequence: one pipeline per partition. */
async function readOrderedWaiting(
  sources: StatsSources,
  hooks: readonly Hook[],
): Promise<Map<string, number>> {
  const ordered = hooks.filter((hook) => hook.delivery.ordering === "fifo").map((hook) => hook.id);
  const waiting = new Map<string, number>();
  await Promise.all(
    sources.partitions
      .group(ordered, (id) => id)
      .map(async ({ partition, items }) => {
        const pipeline = sources.redis.pipeline();
        for (const id of items) pipeline.zcard(partition.keys.sequence(id));
        const answers = (await pipeline.exec()) ?? [];
        items.forEach((id, i) => {
          const [error, count] = answers[i] ?? [null, 0];
          if (error === null) waiting.set(id, Number(count));
        });
      }),
  );
  return waiting;
}

/**
 * Deliveries ingest settles itself (render failures, empty bodies) go into the same minute
 * buckets as the worker's, so the failure counts cover them too.
 */
export async function recordIntake(
  redis: Redis,
  keys: Keyspace,
  results: readonly EntryResult[],
  now = Date.now(),
): Promise<void> {
  const fields = new Map<string, number>();
  const add = (field: string) => fields.set(field, (fields.get(field) ?? 0) + 1);
  for (const entry of results) {
    for (const hook of entry.hooks) {
      if (hook.deliveryId === undefined) continue;
      if (hook.outcome === "render_failed") {
        add("deliveries:failed");
        add(`hook:${hook.hookId}:failed`);
      } else if (hook.outcome === "skipped") add("deliveries:skipped");
    }
  }
  if (fields.size === 0) return;
  const key = keys.statsMinute(Math.floor(now / MINUTE_MS));
  const pipeline = redis.pipeline();
  for (const [field, by] of fields) pipeline.hincrby(key, field, by);
  pipeline.pexpire(key, STATS_TTL_MS);
  await pipeline.exec();
}

function emptyMinute(): MinuteCounts {
  return {
    deliveries: { succeeded: 0, failed: 0, skipped: 0, stuck: 0 },
    attempts: { succeeded: 0, retry: 0, failed: 0 },
    latency: { buckets: new Map(), sumMs: 0 },
    attempt: { buckets: new Map(), sumMs: 0 },
    hooks: new Map(),
    queue: null,
  };
}

function parseMinute(raw: Record<string, string>): MinuteCounts {
  const minute = emptyMinute();
  for (const [field, text] of Object.entries(raw)) {
    const value = Number(text);
    if (!Number.isFinite(value)) continue;
    const [group, name, third] = field.split(":");
    if (group === "deliveries" && name !== undefined && name in minute.deliveries) {
      minute.deliveries[name as keyof DeliveryCounts] = value;
    } else if (group === "attempts" && name !== undefined && name in minute.attempts) {
      minute.attempts[name as keyof AttemptCounts] = value;
    } else if (group === "latency" || group === "attempt") {
      const histogram = minute[group];
      if (name === "sum_ms") histogram.sumMs = value;
      else if (name === "le" && third !== undefined) {
        histogram.buckets.set(third === "+Inf" ? Number.POSITIVE_INFINITY : Number(third), value);
      }
    } else if (group === "hook" && name !== undefined && (third === "succeeded" || third === "failed")) {
      const hook = minute.hooks.get(name) ?? { succeeded: 0, failed: 0 };
      hook[third] = value;
      minute.hooks.set(name, hook);
    } else if (
      group === "queue" &&
      name !== undefined &&
      (QUEUE_STATES as readonly string[]).includes(name)
    ) {
      minute.queue ??= {};
      minute.queue[name as QueueState] = value;
    }
  }
  return minute;
}

function mergeMinutes(into: MinuteCounts, minute: MinuteCounts): MinuteCounts {
  for (const key of Object.keys(into.deliveries) as (keyof DeliveryCounts)[]) {
    into.deliveries[key] += minute.deliveries[key];
  }
  for (const key of Object.keys(into.attempts) as (keyof AttemptCounts)[]) {
    into.attempts[key] += minute.attempts[key];
  }
  for (const name of ["latency", "attempt"] as const) {
    into[name].sumMs += minute[name].sumMs;
    for (const [bound, count] of minute[name].buckets) {
      into[name].buckets.set(bound, (into[name].buckets.get(bound) ?? 0) + count);
    }
  }
  for (const [id, counts] of minute.hooks) {
    const hook = into.hooks.get(id) ?? { succeeded: 0, failed: 0 };
    hook.succeeded += counts.succeeded;
    hook.failed += counts.failed;
    into.hooks.set(id, hook);
  }
  // Partitions' samples of one minute add up (the hour's total does not use them).
  if (minute.queue !== null) {
    into.queue ??= {};
    for (const [state, n] of Object.entries(minute.queue) as [QueueState, number][])
      into.queue[state] = (into.queue[state] ?? 0) + n;
  }
  return into;
}

/**
 * p50, p95 and p99 in ms, interpolated within buckets as Prometheus' histogram_quantile does with
 * the same bounds, so the dashboard and Grafana agree.
 */
export function percentiles(histogram: Histogram, bounds: readonly number[]): Percentiles | null {
  const count = [...histogram.buckets.values()].reduce((sum, n) => sum + n, 0);
  if (count === 0) return null;
  const at = (q: number) => round(quantileSeconds(q, histogram.buckets, count, bounds) * 1e3);
  return { count, meanMs: round(histogram.sumMs / count), p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** The q-quantile in seconds; a rank in the +Inf bucket answers the highest finite bound. */
function quantileSeconds(
  q: number,
  buckets: ReadonlyMap<number, number>,
  count: number,
  bounds: readonly number[],
): number {
  const rank = q * count;
  let seen = 0;
  for (const [i, upper] of bounds.entries()) {
    const n = buckets.get(upper) ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return bounds.at(-1) ?? 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
