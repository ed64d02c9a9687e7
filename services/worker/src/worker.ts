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
  keyspace,
  OUTBOX_SCRIPTS,
  Outbox,
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
  readonly worker: Worker<DeliveryJobData>;
  readonly health: HookHealth;
  /** The worker's Prometheus metrics; main.ts serves them on HOOKWIRE_WORKER_METRICS_PORT. */
  readonly metrics: WorkerMetrics;
  /** Stops taking jobs, lets in-flight attempts finish within the grace period, then closes. */
  close(graceMs?: number): Promise<void>;
}

/** How often the queue's depth is written to the minute's stats, for the dashboard's chart. */
const QUEUE_SAMPLE_MS = 10e3;

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { config, redis, logger } = options;
  if (config.secretKey === undefined) {
    throw new Error("HOOKWIRE_SECRET_KEY is not set: the worker cannot read the hooks' secrets without it");
  }
  const keys = keyspace(config.queuePrefix);
  const settings = config.worker;
  const sender =
    options.sender ??
    createSender({
      userAgent: `hookwire/${WORKER_VERSION}`,
      allowPrivateNetworks: settings.allowPrivateNetworks,
      allowedNetworks: settings.allowedNetworks,
      egressProxy: settings.egressProxy,
    });
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix: config.queuePrefix });
  // Redis going away (a failover, a restart) is the connection's to log, once, not a stack trace
  // per command from the queue.
  queue.on("error", () => undefined);
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
  const stats = new StatsRecorder(keys);
  // hookwire's own writes (records, stats, health) go over a connection of their own: BullMQ
  // defines its ~50 Lua commands on the connection it is given, and ioredis copies every one of
  // them onto each pipeline made from that connection, about 90 µs per job.
  const writes = redis.duplicate({ connectionName: "hookwire-worker-writes" });
  // Sent by SHA on this connection (see LuaScript), before any pipeline is made from it.
  defineScripts(writes, [...OUTBOX_SCRIPTS, ...LIMIT_SCRIPTS, ...HEALTH_SCRIPTS, ...STATS_SCRIPTS]);
  writes.on("error", (error) => logger.warn({ err: error.message }, "redis connection error (writes)"));
  const health = new HookHealth(writes, keys, {
    failureThreshold: settings.circuitFailureThreshold,
    openMs: settings.circuitOpenMs,
    disableAfterMs: settings.disableAfterMs,
  });
  // This process among the workers sharing each hook's limits (its leases are under this name).
  const workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  const limits = new HookLimits(keys, workerId, settings.lockMs);
  const log = new DeliveryLog(writes, keys, {
    succeeded: settings.retentionSucceededMs,
    failed: settings.retentionFailedMs,
  });
  const outbox = new Outbox(keys, queue, settings.lockMs);
  const hooks = new HookStore(redis, keys, new SecretBox(config.secretKey));
  const context: WorkerContext = {
    hooks,
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
    log,
    writer: new DeliveryWriter(writes, log, outbox),
    catalog: options.catalog,
    sender,
    redis: writes,
    health,
    limits,
    gates: new HookGates(),
    backlogs: new HookBacklogs(),
    settings: {
      retryScheduleSeconds: settings.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS,
      retryAfterCapMs: settings.retryAfterCapMs,
      perHookConcurrency: settings.perHookConcurrency,
      concurrency: settings.concurrency,
    },
    logger,
    observer,
    stats,
  };
  const dispatcher = new Dispatcher(context);
  const sweeper = new Sweeper({ outbox, limits, redis: writes, dispatcher, stats, observer, logger });
  const worker = new Worker<DeliveryJobData>(
    DELIVERY_QUEUE,
    (job, token) => processDeliveryJob(job, token, context, dispatcher),
    {
      connection: redis,
      prefix: config.queuePrefix,
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
      { jobId: job?.id, attemptsMade: job?.attemptsMade, err: error },
      retried
        ? "delivery job failed; it will be retried"
        : "delivery job failed; a sweeper will queue it again",
    );
  });
  worker.on("error", (error) => logger.error({ err: error }, "worker error"));

  sweeper.start();

  const trimTimer = setInterval(() => {
    context.log
      .trimIndexes()
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
    worker,
    health,
    metrics,
    async close(graceMs = settings.shutdownGraceMs) {
      clearInterval(trimTimer);
      clearInterval(sampleTimer);
      // A sample in flight finishes first (no write lands after shutdown), unless Redis is away:
      // then this connection waits for it, and shutdown must not.
      await Promise.race([sampling, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      // No new jobs (the ones handing over finish in moments), then the deliveries held here:
      // attempts in flight may finish within the grace period, the rest go back to the queue
      // (DELIVERY_ERR_CLOSED, deferred, no attempt spent). The batches parked here go back once
      // no job of theirs is left running.
      const stopped = worker.close();
      let aborted = false;
      await dispatcher.drain(graceMs, async () => {
        aborted = true;
        await sender.destroy();
      });
      await stopped;
      await dispatcher.unpark();
      if (!aborted) await sender.close();
      await sweeper.stop();
      await outbox.drain();
      await queue.close();
      writes.disconnect();
    },
  };
}
