import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { HookwireConfig } from "@hookwire/config";
import { createSender, DEFAULT_RETRY_SCHEDULE_SECONDS, OAuthTokens, type Sender } from "@hookwire/delivery";
import type { Catalog } from "@hookwire/manifest";
import {
  DELIVERY_QUEUE,
  type DeliveryJobData,
  defineScripts,
  jobBackoffMs,
  type Keyspace,
  OUTBOX_SCRIPTS,
  Outbox,
  type Partition,
  Partitions,
  partitionIndexOf,
  SEQUENCE_SCRIPTS,
} from "@hookwire/queue";
import { DeliveryLog, DeliveryWriter, HookStore, SecretBox } from "@hookwire/store";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { Dispatcher } from "./dispatcher";
import { HookBacklogs } from "./hook-backlog";
import { HookGates } from "./hook-gate";
import { HEALTH_SCRIPTS, HookHealth } from "./hook-health";
import { HookLimits, LIMIT_SCRIPTS } from "./hook-limits";
import { WorkerMetrics } from "./metrics";
import { processDeliveryJob } from "./processor";
import { Sequencer } from "./sequencer";
import { STATS_SCRIPTS, StatsRecorder } from "./stats-recorder";
import { Sweeper } from "./sweeper";
import type { DeliveryObserver, WorkerContext } from "./worker-context";

export const WORKER_VERSION = "0.1.0";

export interface DeliveryWorkerOptions {
  config: Readonly<HookwireConfig>;
  /** A connection made with role "worker" (BullMQ needs it to wait, not fail, when Redis is away). */
  redis: Redis;
  catalog: Catalog;
  logger: Logger;
  /** Told of every attempt and settled delivery, besides the worker's own metrics. */
  observer?: DeliveryObserver;
  /** Node's process metrics in `metrics.registry` (default true). */
  defaultMetrics?: boolean;
  /** For tests: a sender with its own settings (e.g. a DNS resolver). */
  sender?: Sender;
}

export interface DeliveryWorker {
  /** One per partition the worker consumes (HOOKWIRE_WORKER_PARTITIONS), in partition order. */
  readonly lanes: readonly WorkerLane[];
  /** The worker's Prometheus metrics; main.ts serves them on HOOKWIRE_WORKER_METRICS_PORT. */
  readonly metrics: WorkerMetrics;
  /** Stops taking jobs, lets in-flight attempts finish within the grace period, then closes. */
  close(graceMs?: number): Promise<void>;
}

/** What a worker runs for one partition: its BullMQ worker, and the hooks' state there. */
export interface WorkerLane {
  readonly partition: Partition;
  readonly worker: Worker<DeliveryJobData>;
  readonly health: HookHealth;
}

/** How often the queue's depth is written to the minute's stats, for the dashboard's chart. */
const QUEUE_SAMPLE_MS = 10e3;

/** What the lanes of one worker share: one sender, one set of metrics, the hooks. */
interface Shared {
  options: DeliveryWorkerOptions;
  redis: Redis;
  writes: Redis;
  sender: Sender;
  observer: DeliveryObserver;
  hooks: HookStore;
  /** Where the entries' claims are (partition 0's keys): the delivery log finds records by them. */
  claims: Keyspace;
  attempts: WorkerContext["attempts"];
  gates: HookGates;
  backlogs: HookBacklogs;
  workerId: string;
}

interface RunningLane extends WorkerLane {
  /** Stops the lane's timers, once a queue sample in flight is written (or after 1 s). */
  quiet(): Promise<void>;
  dispatcher: Dispatcher;
  /** The partition's ordered hooks, one delivery at a time each. */
  sequencer: Sequencer;
  /** Once no attempt is left: the lane's sweeper, relays and queue. */
  close(): Promise<void>;
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { config, redis, logger } = options;
  if (config.secretKey === undefined) {
    throw new Error("HOOKWIRE_SECRET_KEY is not set: the worker cannot read the hooks' secrets without it");
  }
  const partitions = new Partitions(config.queuePrefix, config.queuePartitions);
  const settings = config.worker;
  const sender =
    options.sender ??
    createSender({
      userAgent: `hookwire/${WORKER_VERSION}`,
      allowPrivateNetworks: settings.allowPrivateNetworks,
      allowedNetworks: settings.allowedNetworks,
      egressProxy: settings.egressProxy,
    });
  const metrics = new WorkerMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const extra = options.observer;
  const observer: DeliveryObserver =
    extra === undefined
      ? metrics
      : {
          attempt(info) {
            metrics.attempt(info);
            extra.attempt(info);
          },
          settled(info) {
            metrics.settled(info);
            extra.settled(info);
          },
          hookDisabled() {
            metrics.hookDisabled();
            extra.hookDisabled();
          },
          stuck(count) {
            metrics.stuck(count);
            extra.stuck?.(count);
          },
        };
  // hookwire's own writes (records, stats, health) go over a connection of their own: BullMQ
  // defines its ~50 Lua commands on the connection it is given, and ioredis copies every one of
  // them onto each pipeline made from that connection, about 90 µs per job.
  const writes = redis.duplicate({ connectionName: "hookwire-worker-writes" });
  // Sent by SHA on this connection (see LuaScript), before any pipeline is made from it.
  defineScripts(writes, [
    ...OUTBOX_SCRIPTS,
    ...SEQUENCE_SCRIPTS,
    ...LIMIT_SCRIPTS,
    ...HEALTH_SCRIPTS,
    ...STATS_SCRIPTS,
  ]);
  writes.on("error", (error) => logger.warn({ err: error.message }, "redis connection error (writes)"));
  const hooks = new HookStore(redis, partitions.base.keys, new SecretBox(config.secretKey));
  const shared: Shared = {
    options,
    redis,
    writes,
    sender,
    observer,
    hooks,
    claims: partitions.base.keys,
    attempts: {
      sender,
      oauth: new OAuthTokens({
        fetch: (url, init) => sender.fetch(url, init),
        persist: (hookId, token) => hooks.keepOAuthToken(hookId, token),
      }),
      // The sender's own answer (its guard), as "test this hook" asks it.
      privateNetworksBlocked: sender.privateNetworksBlocked,
      defaultConcurrency: settings.perHookConcurrency,
    },
    gates: new HookGates(),
    backlogs: new HookBacklogs(),
    // This process among the workers sharing each hook's limits (its leases are under this name).
    workerId: `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`,
  };
  const consumed = settings.partitions ?? partitions.all.map((partition) => partition.index);
  const lanes = consumed.map((index) => startLane(partitions.all[index] as Partition, shared));

  return {
    lanes,
    metrics,
    async close(graceMs = settings.shutdownGraceMs) {
      // No new jobs (the ones handing over finish in moments), then the deliveries held here:
      // attempts in flight may finish within the grace period, the rest go back to the queue
      // (DELIVERY_ERR_CLOSED, deferred, no attempt spent). The batches parked here go back once
      // no job of theirs is left running.
      await Promise.all(lanes.map((lane) => lane.quiet()));
      const stopped = Promise.all(lanes.map((lane) => lane.worker.close()));
      let aborted: Promise<void> | undefined;
      const abort = () => {
        aborted ??= sender.destroy();
        return aborted;
      };
      await Promise.all(
        lanes.flatMap((lane) => [
          lane.dispatcher.drain(graceMs, abort),
          lane.sequencer.drain(graceMs, abort),
        ]),
      );
      await stopped;
      await Promise.all(lanes.map((lane) => lane.dispatcher.unpark()));
      if (aborted === undefined) await sender.close();
      await Promise.all(lanes.map((lane) => lane.close()));
      writes.disconnect();
    },
  };
}

/** One partition's BullMQ worker, outbox, sweeper and the state of its hooks. */
function startLane(partition: Partition, shared: Shared): RunningLane {
  const { options, redis, writes } = shared;
  const { logger } = options;
  const settings = options.config.worker;
  const { keys, prefix } = partition;
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix });
  // Redis going away (a failover, a restart) is the connection's to log, once, not a stack trace
  // per command from the queue.
  queue.on("error", () => undefined);
  const stats = new StatsRecorder(keys);
  const health = new HookHealth(writes, keys, {
    failureThreshold: settings.circuitFailureThreshold,
    openMs: settings.circuitOpenMs,
    disableAfterMs: settings.disableAfterMs,
  });
  const limits = new HookLimits(keys, shared.workerId, settings.lockMs);
  const log = new DeliveryLog(writes, keys, {
    retention: { succeeded: settings.retentionSucceededMs, failed: settings.retentionFailedMs },
    claims: shared.claims,
    claimWindowMs: options.config.ingest.idempotencyWindowMs,
  });
  const outbox = new Outbox(keys, queue, settings.lockMs);
  const context: WorkerContext = {
    keys,
    hooks: shared.hooks,
    attempts: shared.attempts,
    log,
    writer: new DeliveryWriter(writes, log, outbox),
    catalog: options.catalog,
    sender: shared.sender,
    redis: writes,
    health,
    limits,
    gates: shared.gates,
    backlogs: shared.backlogs,
    settings: {
      retryScheduleSeconds: settings.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS,
      retryAfterCapMs: settings.retryAfterCapMs,
      perHookConcurrency: settings.perHookConcurrency,
      concurrency: settings.concurrency,
    },
    logger,
    observer: shared.observer,
    stats,
  };
  const dispatcher = new Dispatcher(context);
  const sweeper = new Sweeper({
    outbox,
    limits,
    redis: writes,
    dispatcher,
    stats,
    observer: shared.observer,
    logger,
  });
  const worker = new Worker<DeliveryJobData>(
    DELIVERY_QUEUE,
    (job, token) => processDeliveryJob(job, token, context, dispatcher),
    {
      connection: redis,
      prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockMs,
      stalledInterval: settings.lockMs,
      // At least once: a job whose worker died is run again, however often that happens.
      maxStalledCount: 1_000,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 10_000 },
      // A job that throws runs again after this (its attempts are unbounded: see JOB_OPTIONS).
      settings: { backoffStrategy: (attemptsMade: number) => jobBackoffMs(attemptsMade) },
    },
  );
  worker.on("failed", (job, error) => {
    const retried = job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1);
    logger.error(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, partition: partition.index, err: error },
      retried
        ? "delivery job failed; it will be retried"
        : "delivery job failed; a sweeper will queue it again",
    );
  });
  worker.on("error", (error) => logger.error({ err: error, partition: partition.index }, "worker error"));

  sweeper.start();
  const sequencer = new Sequencer(context, shared.workerId);
  sequencer.start();

  const trimTimer = setInterval(() => {
    shared.hooks
      .list()
      .then((hooks) =>
        context.log.trimIndexes(
          hooks.flatMap((hook) =>
            partitionIndexOf(hook.id, options.config.queuePartitions) === partition.index ? [hook.id] : [],
          ),
        ),
      )
      .catch((error: unknown) => logger.warn({ err: error }, "could not trim delivery indexes"));
  }, 60e3);
  trimTimer.unref();

  let sampling: Promise<void> | undefined;
  const sampleQueue = () => {
    sampling ??= queue
      .getJobCounts("waiting", "prioritized", "active", "delayed", "failed")
      .then((counts) => stats.sampleQueue(redis, counts))
      .catch((error: unknown) => logger.debug({ err: error }, "could not sample the queue's depth"))
      .finally(() => {
        sampling = undefined;
      });
  };
  const sampleTimer = setInterval(sampleQueue, QUEUE_SAMPLE_MS);
  sampleTimer.unref();

  return {
    partition,
    worker,
    health,
    dispatcher,
    sequencer,
    async quiet() {
      clearInterval(trimTimer);
      clearInterval(sampleTimer);
      // A sample in flight finishes first (no write lands after shutdown), unless Redis is away:
      // then this connection waits for it, and shutdown must not.
      await Promise.race([sampling, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    },
    async close() {
      await sweeper.stop();
      await outbox.drain();
      await queue.close();
    },
  };
}
