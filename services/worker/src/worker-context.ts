import type { Sender } from "@hookwire/delivery";
import type { AttemptDeps, Catalog } from "@hookwire/manifest";
import type { Keyspace } from "@hookwire/queue";
import type { DeliveryLog, DeliveryStatus, DeliveryWriter, HookStore } from "@hookwire/store";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HookBacklogs } from "./hook-backlog";
import type { HookGates } from "./hook-gate";
import type { HookHealth } from "./hook-health";
import type { HookLimits } from "./hook-limits";
import type { StatsRecorder } from "./stats-recorder";

/** What the worker tells its metrics about; every call is cheap and synchronous. */
export interface DeliveryObserver {
  attempt(info: { outcome: "succeeded" | "retry" | "failed"; durationMs: number }): void;
  settled(info: { status: DeliveryStatus; acceptedAt: number; at: number }): void;
  hookDisabled(): void;
  /** Deliveries a sweeper found with nothing queued behind them, and queued again. */
  stuck?(count: number): void;
}

export interface WorkerSettings {
  retryScheduleSeconds: readonly number[];
  retryAfterCapMs: number;
  /** Requests in flight per hook unless the hook says otherwise (HookGates' default). */
  perHookConcurrency: number;
  /** Job slots (BullMQ concurrency). */
  concurrency: number;
}

/** What the processor, the dispatcher and the outcomes share: built once by startDeliveryWorker. */
export interface WorkerContext {
  /** The keys of the partition this context works in. */
  keys: Keyspace;
  hooks: HookStore;
  log: DeliveryLog;
  /** The one write path: records, batches (the outbox) and what goes with them, in one MULTI. */
  writer: DeliveryWriter;
  catalog: Catalog;
  sender: Sender;
  /** What attempts are made with: the sender, the hooks' access tokens and the request settings. */
  attempts: AttemptDeps;
  /** hookwire's own connection for writes (not BullMQ's). */
  redis: Redis;
  health: HookHealth;
  /** The hook's concurrency, rate and held counts, shared with every other worker. */
  limits: HookLimits;
  gates: HookGates;
  /** What each hook holds of this worker: a slow hook's jobs go back to the queue. */
  backlogs: HookBacklogs;
  settings: WorkerSettings;
  logger: Logger;
  observer: DeliveryObserver;
  /** Per-minute counts in Redis for `GET /v1/stats`, written with each batch's outcomes. */
  stats?: StatsRecorder;
}
