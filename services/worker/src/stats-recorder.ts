import {
  ATTEMPT_BUCKETS_SECONDS,
  type Keyspace,
  LATENCY_BUCKETS_SECONDS,
  LuaScript,
  STATS_STUCK_FIELD,
  STATS_TTL_MS,
} from "@hookwire/queue";
import type { DeliveryStatus } from "@hookwire/store";
import type { ChainableCommander, Redis } from "ioredis";

/** What the recorder learns of one delivery in a job. */
export interface DeliveryStat {
  hookId: string;
  /** Final statuses count as settled deliveries; pending means an attempt will be retried. */
  status: DeliveryStatus;
  acceptedAt: number;
  /** The HTTP attempt this round made, if one was made. */
  attempt?: { outcome: "succeeded" | "retry" | "failed"; durationMs: number };
}

/**
 * KEYS[1] the minute's hash. ARGV[1] its TTL (ms), ARGV[2..] field, count, field, count, ...
 * A job's counts in one command: as HINCRBYs they were ten commands (and ten QUEUED replies) in
 * every batch's MULTI.
 */
const COUNT_SCRIPT = `for i = 2, #ARGV, 2 do redis.call("HINCRBY", KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call("PEXPIRE", KEYS[1], ARGV[1])
return 0`;

const COUNT = new LuaScript("hookwireStatsCount", 1, COUNT_SCRIPT);
/** The recorder's script, for `defineScripts` on the worker's connection. */
export const STATS_SCRIPTS: readonly LuaScript[] = [COUNT];

/** The queue's job counts at one moment, by BullMQ state. */
export type QueueSample = Record<string, number>;

/**
 * Per-minute delivery counts and latency histograms in Redis, shared by every worker and read by
 * ingest for `GET /v1/stats` (the layout is described at `keyspace().statsMinute`). Writes ride
 * on the pipeline the worker already sends for each job: no extra round trip.
 */
export class StatsRecorder {
  constructor(private readonly keys: Keyspace) {}

  /** Adds the counts of one job's deliveries, settled at `now`, to `pipeline` (one command). */
  record(pipeline: ChainableCommander, stats: readonly DeliveryStat[], now: number): void {
    if (stats.length === 0) return;
    const fields = new Map<string, number>();
    const add = (field: string, by: number) => fields.set(field, (fields.get(field) ?? 0) + by);
    for (const stat of stats) {
      if (stat.attempt !== undefined) {
        add(`attempts:${stat.attempt.outcome}`, 1);
        add(`attempt:le:${bucketOf(stat.attempt.durationMs / 1000, ATTEMPT_BUCKETS_SECONDS)}`, 1);
        add("attempt:sum_ms", Math.round(stat.attempt.durationMs));
      }
      if (stat.status === "pending") continue;
      add(`deliveries:${stat.status}`, 1);
      if (stat.status === "succeeded") {
        const latencyMs = Math.max(0, now - stat.acceptedAt);
        add(`latency:le:${bucketOf(latencyMs / 1000, LATENCY_BUCKETS_SECONDS)}`, 1);
        add("latency:sum_ms", latencyMs);
        add(`hook:${stat.hookId}:succeeded`, 1);
      } else if (stat.status === "failed") {
        add(`hook:${stat.hookId}:failed`, 1);
      }
    }
    if (fields.size === 0) return;
    const counts: (string | number)[] = [];
    for (const [field, by] of fields) counts.push(field, by);
    COUNT.add(pipeline, this.keys.statsMinute(Math.floor(now / 60e3)), STATS_TTL_MS, ...counts);
  }

  /** Counts deliveries a sweeper found with nothing queued behind them (STATS_STUCK_FIELD). */
  async recordStuck(redis: Redis, count: number, now = Date.now()): Promise<void> {
    if (count === 0) return;
    const key = this.keys.statsMinute(Math.floor(now / 60e3));
    await redis.pipeline().hincrby(key, STATS_STUCK_FIELD, count).pexpire(key, STATS_TTL_MS).exec();
  }

  /** Keeps the latest queue depth in the minute's bucket, so the dashboard can chart its history. */
  async sampleQueue(redis: Redis, counts: QueueSample, now = Date.now()): Promise<void> {
    const key = this.keys.statsMinute(Math.floor(now / 60e3));
    const fields: Record<string, number> = {};
    for (const [state, count] of Object.entries(counts)) fields[`queue:${state}`] = count;
    await redis.multi().hset(key, fields).pexpire(key, STATS_TTL_MS).exec();
  }
}

/** The upper bound of the bucket a value falls in (value ≤ bound), as Prometheus' `le` label. */
export function bucketOf(seconds: number, bounds: readonly number[]): string {
  for (const bound of bounds) if (seconds <= bound) return String(bound);
  return "+Inf";
}
