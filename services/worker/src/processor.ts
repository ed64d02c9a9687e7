import {
  type AttemptResult,
  classifyAttempt,
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  errorBodyAllowed,
  type Outcome,
  type Sender,
} from "@hookwire/delivery";
import type { Catalog, Integration } from "@hookwire/manifest";
import { attemptJobId, DELIVERY_JOB_NAME, type DeliveryJobData, type JobDelivery } from "@hookwire/queue";
import type {
  AttemptRecord,
  DeliveryLog,
  DeliveryRecord,
  DeliveryStatus,
  Hook,
  HookStore,
} from "@hookwire/store";
import { DelayedError, type Job, type Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HookBacklogs } from "./hook-backlog";
import type { HookGates } from "./hook-gate";
import type { HookHealth } from "./hook-health";
import { prepareRequest } from "./request";
import type { DeliveryStat, StatsRecorder } from "./stats-recorder";

/** What the worker tells its metrics about; every call is cheap and synchronous. */
export interface DeliveryObserver {
  attempt(info: { outcome: "succeeded" | "retry" | "failed"; durationMs: number }): void;
  settled(info: { status: DeliveryStatus; acceptedAt: number; at: number }): void;
  hookDisabled(): void;
}

export interface WorkerSettings {
  retryScheduleSeconds: readonly number[];
  retryAfterCapMs: number;
  /** No private or loopback address is reachable: the SSRF guard is on with no exceptions. */
  privateNetworksBlocked: boolean;
  /** Requests in flight per hook unless the hook says otherwise (HookGates' default). */
  perHookConcurrency: number;
}

export interface WorkerContext {
  hooks: HookStore;
  log: DeliveryLog;
  catalog: Catalog;
  sender: Sender;
  queue: Queue<DeliveryJobData>;
  redis: Redis;
  health: HookHealth;
  gates: HookGates;
  /** What each hook holds of this worker: a slow hook's jobs go back to the queue, not into slots. */
  backlogs: HookBacklogs;
  settings: WorkerSettings;
  logger: Logger;
  observer: DeliveryObserver;
  /** Per-minute counts in Redis for `GET /v1/stats`, written with each job's outcomes. */
  stats?: StatsRecorder;
}

/** One delivery's attempt, decided. */
interface Settled {
  delivery: JobDelivery;
  attempt: number;
  status: DeliveryStatus;
  templateKey: string;
  reason?: string;
  attemptRecord?: AttemptRecord;
  /** The attempt's duration unrounded, as the observer saw it, so stats and metrics agree. */
  durationMs?: number;
  retryDelayMs?: number;
  /** Whether this attempt says something about the receiver's health (a render error does not). */
  receiverAnswered?: boolean;
  disableHook?: boolean;
}

/**
 * Processes one job: the deliveries of one hook. Every delivery is attempted (within the hook's
 * gate), then everything learned is written in one pipeline and the retries queued in one addBulk.
 */
export async function processDeliveryJob(
  job: Job<DeliveryJobData>,
  token: string | undefined,
  ctx: WorkerContext,
) {
  const { hookId, deliveries } = job.data;
  const hook = await ctx.hooks.get(hookId);
  if (hook === undefined || !hook.on) {
    const reason = hook === undefined ? "the hook was deleted" : "the hook is turned off";
    await writeOutcomes(
      ctx,
      hookId,
      deliveries.map((d) => unsent(d, hook === undefined ? "failed" : "skipped", reason)),
    );
    return;
  }
  const integration = ctx.catalog.get(hook.integration);
  if (integration === undefined) {
    const reason = `integration ${hook.integration} is not in the catalog`;
    await writeOutcomes(
      ctx,
      hookId,
      deliveries.map((d) => unsent(d, "failed", reason)),
    );
    return;
  }

  const admission = ctx.health.admit(hookId, Date.now());
  if (admission.kind === "wait") {
    // The hook's circuit is open: wait for the probe without spending any attempt.
    await job.moveToDelayed(admission.until, token);
    throw new DelayedError();
  }
  const batch = admission.kind === "probe" ? deliveries.slice(0, 1) : deliveries;
  const rest = admission.kind === "probe" ? deliveries.slice(1) : [];

  const verdict = ctx.backlogs.admit(
    hookId,
    batch.length,
    {
      concurrency: hook.delivery.concurrency ?? ctx.settings.perHookConcurrency,
      ratePerSecond: hook.delivery.ratePerSecond,
    },
    Date.now(),
    Math.max(0, job.attemptsStarted - 1),
  );
  if (!verdict.admit) {
    // The hook has more waiting in this worker than it can work off soon: let the slot serve others.
    await job.moveToDelayed(Date.now() + verdict.delayMs, token);
    throw new DelayedError();
  }
  const gate = ctx.gates.for(hookId, hook.delivery);
  const captureErrorBody =
    integration.includeErrorResponseBody &&
    errorBodyAllowed({
      urlHostIsFixed: integration.urlHostIsFixed,
      privateNetworksBlocked: ctx.settings.privateNetworksBlocked,
    });
  ctx.backlogs.enter(hookId, batch.length, Date.now());
  let done = 0;
  let settled: Settled[];
  try {
    settled = await Promise.all(
      batch.map((delivery) =>
        gate.run(async () => {
          const outcome = await attemptDelivery(ctx, integration, hook, delivery, captureErrorBody);
          done++;
          ctx.backlogs.done(hookId, outcome.durationMs, Date.now());
          return outcome;
        }),
      ),
    );
  } finally {
    ctx.backlogs.leave(hookId, batch.length - done);
  }
  await writeOutcomes(ctx, hookId, settled, hook);

  if (rest.length > 0) {
    // The probe decided: go on now when the circuit closed, else wait for the next probe.
    const next = ctx.health.admit(hookId, Date.now());
    const delay = next.kind === "wait" ? Math.max(0, next.until - Date.now()) : 0;
    await ctx.queue.add(DELIVERY_JOB_NAME, { hookId, deliveries: rest }, { delay });
  }
}

async function attemptDelivery(
  ctx: WorkerContext,
  integration: Integration,
  hook: Hook,
  delivery: JobDelivery,
  captureErrorBody: boolean,
): Promise<Settled> {
  const attempt = delivery.attemptsMade + 1;
  let prepared: ReturnType<typeof prepareRequest>;
  try {
    prepared = prepareRequest(integration, hook, delivery, attempt, captureErrorBody);
  } catch (error) {
    return unsent(delivery, "failed", `render failed: ${(error as Error).message}`);
  }
  if (prepared.kind === "skip")
    return { ...unsent(delivery, "skipped", prepared.reason), templateKey: prepared.templateKey };

  const result = await ctx.sender.send(prepared.request);
  const outcome = classifyAttempt(result, {
    attempt,
    scheduleSeconds: hook.delivery.retrySchedule ?? ctx.settings.retryScheduleSeconds,
    retryAfterCapMs: ctx.settings.retryAfterCapMs,
  });
  ctx.observer.attempt({
    outcome: attemptOutcome(outcome.verb),
    durationMs: result.durationMs,
  });
  return settle(delivery, attempt, prepared.templateKey, result, outcome);
}

function settle(
  delivery: JobDelivery,
  attempt: number,
  templateKey: string,
  result: AttemptResult,
  outcome: Outcome,
): Settled {
  const attemptRecord: AttemptRecord = {
    attempt,
    at: result.startedAt,
    durationMs: Math.round(result.durationMs),
    outcome: outcome.verb,
    ...(result.status !== undefined ? { statusCode: result.status } : {}),
    ...(result.errorCode !== undefined ? { errorCode: result.errorCode } : {}),
    ...(result.errorMessage !== undefined ? { errorMessage: result.errorMessage } : {}),
    ...(result.errorBody !== undefined ? { errorBody: result.errorBody } : {}),
  };
  const common = {
    delivery,
    attempt,
    templateKey,
    attemptRecord,
    durationMs: result.durationMs,
    receiverAnswered: true,
  };
  switch (outcome.verb) {
    case "done":
      return { ...common, status: "succeeded" };
    case "retry":
      return { ...common, status: "pending", reason: outcome.reason, retryDelayMs: outcome.delayMs };
    case "give_up":
      return { ...common, status: "failed", reason: outcome.reason, disableHook: outcome.disableHook };
  }
}

function unsent(delivery: JobDelivery, status: DeliveryStatus, reason: string): Settled {
  return { delivery, attempt: delivery.attemptsMade, status, templateKey: delivery.templateKey, reason };
}

async function writeOutcomes(ctx: WorkerContext, hookId: string, settled: readonly Settled[], hook?: Hook) {
  const now = Date.now();
  const retried = settled.filter((s) => s.delivery.attemptsMade > 0).map((s) => s.delivery.id);
  const previous = await ctx.log.getMany(retried);
  const pipeline = ctx.redis.pipeline();
  const retries: { name: string; data: DeliveryJobData; opts: { delay: number; jobId: string } }[] = [];
  let disableReason: string | undefined;
  const stats: DeliveryStat[] = [];
  // Not building the line's object at all when debug is off (pino's call is a no-op then, but
  // its argument is still made, once per delivery).
  const debug = ctx.logger.isLevelEnabled("debug");

  for (const s of settled) {
    const before = previous.get(s.delivery.id);
    // Optional fields are set, not spread in: this runs for every delivery, and each spread is
    // one more short-lived object for the collector.
    const earlier = before?.attempts ?? [];
    const record: DeliveryRecord = {
      id: s.delivery.id,
      hookId,
      entryId: s.delivery.entryId,
      status: s.status,
      templateKey: s.templateKey,
      acceptedAt: s.delivery.acceptedAt,
      updatedAt: now,
      attempts: s.attemptRecord === undefined ? earlier : [...earlier, s.attemptRecord],
    };
    if (s.reason !== undefined) record.reason = s.reason;
    if (s.retryDelayMs !== undefined) record.nextAttemptAt = now + s.retryDelayMs;
    if (s.status === "failed") record.payload = { ...s.delivery, attemptsMade: s.attempt };
    ctx.log.recordUpdate(pipeline, record, before?.status);
    const stat: DeliveryStat = {
      hookId,
      status: s.retryDelayMs !== undefined ? "pending" : s.status,
      acceptedAt: s.delivery.acceptedAt,
    };
    if (s.attemptRecord !== undefined && s.durationMs !== undefined)
      stat.attempt = { outcome: attemptOutcome(s.attemptRecord.outcome), durationMs: s.durationMs };
    stats.push(stat);
    if (s.retryDelayMs !== undefined) {
      retries.push({
        name: DELIVERY_JOB_NAME,
        data: { hookId, deliveries: [{ ...s.delivery, attemptsMade: s.attempt }] },
        opts: { delay: s.retryDelayMs, jobId: attemptJobId(s.delivery.id, s.attempt + 1) },
      });
    } else {
      ctx.observer.settled({ status: s.status, acceptedAt: s.delivery.acceptedAt, at: now });
    }
    if (s.receiverAnswered) {
      const verdict = ctx.health.settle(hookId, s.status === "succeeded", now, s.reason);
      if (verdict.disable)
        disableReason ??= `failing continuously since ${new Date(verdict.failingSince ?? now).toISOString()}`;
    }
    if (s.disableHook) disableReason ??= s.reason ?? "the receiver answered 410 Gone";
    if (s.status === "failed" || s.retryDelayMs !== undefined) {
      ctx.logger.warn(
        {
          deliveryId: s.delivery.id,
          hookId,
          entryId: s.delivery.entryId,
          attempt: s.attempt,
          status: s.status,
          reason: s.reason,
        },
        s.retryDelayMs !== undefined ? "delivery attempt failed; will retry" : "delivery failed",
      );
    } else if (debug) {
      ctx.logger.debug(
        { deliveryId: s.delivery.id, hookId, entryId: s.delivery.entryId, status: s.status },
        "delivery settled",
      );
    }
  }
  ctx.health.persist(pipeline, hookId);
  ctx.stats?.record(pipeline, stats, now);

  const [written] = await Promise.all([
    pipeline.exec(),
    retries.length > 0 ? ctx.queue.addBulk(retries) : undefined,
  ]);
  const failedWrite = written?.find(([error]) => error !== null);
  if (failedWrite) throw failedWrite[0];

  if (disableReason !== undefined && hook !== undefined) await disableHook(ctx, hookId, disableReason);
}

/** An attempt's queue verb (done, retry, give_up) as the outcome label metrics and stats use. */
function attemptOutcome(verb: string): "succeeded" | "retry" | "failed" {
  return verb === "done" ? "succeeded" : verb === "retry" ? "retry" : "failed";
}

async function disableHook(ctx: WorkerContext, hookId: string, reason: string): Promise<void> {
  const at = new Date().toISOString();
  await ctx.hooks.update(hookId, (hook) => ({ ...hook, on: false, disabled: { reason, at } }));
  ctx.observer.hookDisabled();
  ctx.logger.warn({ hookId, reason }, "hook disabled");
}

export { DEFAULT_RETRY_SCHEDULE_SECONDS };
