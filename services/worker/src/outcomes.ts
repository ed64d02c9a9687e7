/**
 * From attempts to what is written: each delivery of a batch ends settled (an attempt made and
 * classified, or a reason it was not sent) or deferred (not attempted: its hook's circuit is open,
 * or the worker is stopping). `commitOutcomes` writes a batch's whole result through the one write
 * path: the records, the batches that carry its retries and its deferred deliveries, the hook's
 * health and the minute's stats, and the removal of the batch itself, in one MULTI.
 */
import { randomUUID } from "node:crypto";
import { type AttemptResult, classifyAttempt, type Outcome } from "@hookwire/delivery";
import { type AttemptMade, type Integration, makeAttempt } from "@hookwire/manifest";
import {
  attemptJobId,
  type JobDelivery,
  type OutboxBatch,
  type SequenceStep,
  transientRedisReply,
} from "@hookwire/queue";
import {
  type AttemptRecord,
  addEvent,
  type DeliveryRecord,
  type DeliveryStatus,
  type Hook,
  type OperationalEvent,
  writeEvent,
} from "@hookwire/store";
import type { Release } from "./hook-limits";
import type { DeliveryStat } from "./stats-recorder";
import type { WorkerContext } from "./worker-context";

/** One delivery's attempt, decided. */
export interface Settled {
  kind: "settled";
  delivery: JobDelivery;
  attempt: number;
  status: DeliveryStatus;
  templateKey: string;
  reason?: string;
  attemptRecord?: AttemptRecord;
  /** The attempt's duration unrounded, as the observer saw it, so stats and metrics agree. */
  durationMs?: number;
  retryDelayMs?: number;
  /** Why the hook must be turned off after this attempt (410 Gone, failing for too long). */
  disableReason?: string;
  /** The hook's circuit opened or closed with this attempt (told by this worker only). */
  circuit?: "opened" | "closed";
  /** No OAuth access token could be had for the attempt: why. */
  oauthFailure?: string;
  /** Not attempted because the hook cannot be sent to (see `sendable`). */
  unsendable?: Unsendable["cause"];
}

/** A delivery not attempted now, to go back to the queue as it is. */
export interface Deferred {
  kind: "deferred";
  delivery: JobDelivery;
  /** Not before (epoch ms). */
  notBefore: number;
}

export type DeliveryEnd = Settled | Deferred;

/** A delivery the egress proxy failed is tried again after this. */
const PROXY_RETRY_MS = 1_000;

/**
 * Makes one attempt of a delivery and classifies it; never throws. The hook's circuit learns of
 * the answer at once (not when the batch commits), so the deliveries behind it see it open.
 * `cancel` cuts the attempt short (its outcome is then the caller's to drop).
 */
export async function attemptDelivery(
  ctx: WorkerContext,
  integration: Integration,
  hook: Hook,
  delivery: JobDelivery,
  cancel?: AbortSignal,
): Promise<DeliveryEnd> {
  const attempt = delivery.attemptsMade + 1;
  let made: AttemptMade;
  try {
    made = await makeAttempt(ctx.attempts, integration, hook, delivery, attempt, undefined, cancel);
  } catch (error) {
    return unsent(delivery, "failed", `render failed: ${(error as Error).message}`);
  }
  if (made.kind === "skip")
    return { ...unsent(delivery, "skipped", made.reason), templateKey: made.templateKey };
  // Cut short by the caller (an ordered hook's lock lost): its outcome is dropped, so neither the
  // hook's health nor the metrics hear of it; the head is sent again under a lock.
  if (cancel?.aborted) return { kind: "deferred", delivery, notBefore: 0 };
  const { result } = made;
  // Cut short by this worker's own shutdown: not the receiver's doing, so no attempt is spent.
  if (result.errorCode === "DELIVERY_ERR_CLOSED") return { kind: "deferred", delivery, notBefore: 0 };
  // The egress proxy failed (down, or refused the tunnel): not charged to the hook either, no
  // attempt spent and nothing told to its circuit; tried again shortly.
  if (result.errorCode === "DELIVERY_ERR_PROXY") {
    ctx.logger.warn(
      { hookId: hook.id, deliveryId: delivery.id, err: result.errorMessage },
      "the egress proxy failed; the delivery waits for it",
    );
    return { kind: "deferred", delivery, notBefore: Date.now() + PROXY_RETRY_MS };
  }
  const templateKey = made.templateKey ?? delivery.templateKey;
  const outcome = classifyAttempt(result, {
    attempt,
    scheduleSeconds: hook.delivery.retrySchedule ?? ctx.settings.retryScheduleSeconds,
    retryAfterCapMs: ctx.settings.retryAfterCapMs,
  });
  ctx.observer.attempt({
    outcome: attemptOutcome(outcome.verb),
    durationMs: result.durationMs,
  });
  const settled = settle(delivery, attempt, templateKey, result, outcome);
  const now = Date.now();
  const verdict = await ctx.health.report(hook.id, settled.status === "succeeded", now, settled.reason);
  if (verdict.circuit !== undefined) settled.circuit = verdict.circuit;
  if (result.errorCode === "DELIVERY_ERR_OAUTH")
    settled.oauthFailure = result.errorMessage ?? "no access token";
  if (verdict.disable)
    settled.disableReason = `failing continuously since ${new Date(verdict.failingSince ?? now).toISOString()}`;
  else if (outcome.verb === "give_up" && outcome.disableHook)
    settled.disableReason = outcome.reason ?? "the receiver answered 410 Gone";
  return settled;
}

/** The delivery as one attempt left it. Built field by field, without spreads: once per delivery. */
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
  };
  if (result.status !== undefined) attemptRecord.statusCode = result.status;
  if (result.errorCode !== undefined) attemptRecord.errorCode = result.errorCode;
  if (result.errorMessage !== undefined) attemptRecord.errorMessage = result.errorMessage;
  if (result.errorBody !== undefined) attemptRecord.errorBody = result.errorBody;
  const settled: Settled = {
    kind: "settled",
    delivery,
    attempt,
    status: "succeeded",
    templateKey,
    attemptRecord,
    durationMs: result.durationMs,
  };
  switch (outcome.verb) {
    case "done":
      break;
    case "retry":
      settled.status = "pending";
      settled.reason = outcome.reason;
      settled.retryDelayMs = outcome.delayMs;
      break;
    case "give_up":
      settled.status = "failed";
      settled.reason = outcome.reason;
      break;
  }
  return settled;
}

/** Why a hook's deliveries cannot be sent at all, and what they become. */
export interface Unsendable {
  cause: "deleted" | "off" | "uncatalogued";
  status: DeliveryStatus;
  reason: string;
}

/**
 * The hook and its integration, when its deliveries can be sent; else why not (a deleted hook's
 * fail, a hook turned off skips them).
 */
export function sendable(
  hook: Hook | undefined,
  integration: Integration | undefined,
): { hook: Hook; integration: Integration } | Unsendable {
  if (hook === undefined) return { cause: "deleted", status: "failed", reason: "the hook was deleted" };
  if (!hook.on) return { cause: "off", status: "skipped", reason: "the hook is turned off" };
  if (integration === undefined)
    return {
      cause: "uncatalogued",
      status: "failed",
      reason: `integration ${hook.integration} is not in the catalog`,
    };
  return { hook, integration };
}

/** What an unsendable hook's delivery becomes. */
export function unsendable(delivery: JobDelivery, why: Unsendable): Settled {
  return { ...unsent(delivery, why.status, why.reason), unsendable: why.cause };
}

export function unsent(delivery: JobDelivery, status: DeliveryStatus, reason: string): Settled {
  return {
    kind: "settled",
    delivery,
    attempt: delivery.attemptsMade,
    status,
    templateKey: delivery.templateKey,
    reason,
  };
}

/** Runs a Redis step until it lands (or gives up by rejecting); the dispatcher's is patient. */
export type Persist = <T>(step: () => Promise<T>) => Promise<T>;

const once: Persist = (step) => step();

/** First wait before a failed commit is tried again, and the longest. */
const PERSIST_MIN_DELAY_MS = 100;
const PERSIST_MAX_DELAY_MS = 5_000;

/**
 * The persist of work held in memory (the dispatcher's batches, an ordered head): tries a Redis
 * step until it lands, backing off, for at most two leases; then the lease lapses and the work is
 * taken over elsewhere.
 */
export function patient(ctx: WorkerContext): Persist {
  return async (step) => {
    const deadline = Date.now() + 2 * ctx.writer.outbox.leaseMs;
    for (let delay = PERSIST_MIN_DELAY_MS; ; delay = Math.min(PERSIST_MAX_DELAY_MS, delay * 2)) {
      try {
        return await step();
      } catch (error) {
        if (!passing(error) || Date.now() + delay > deadline) throw error;
        ctx.logger.warn({ err: error, retryInMs: delay }, "a write to Redis failed; trying again");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}

/** Whether a failed Redis step may pass by itself: any connection failure, or a "not now" reply. */
function passing(error: unknown): boolean {
  return transientRedisReply(error) ?? true;
}

/** How a batch's outcomes are committed, beyond the outcomes themselves. */
export interface CommitOptions {
  /** The hook as the attempts saw it: given, an outcome may disable it. */
  hook?: Hook;
  /** Runs each Redis step (default: once). */
  persist?: Persist;
  /** The hook's shared slots and count to give back with the commit. */
  release?: Release;
  /**
   * The outcome is of an ordered hook's head, sent under the sequence's lock `token` (see
   * sequencer.ts): its sequence moves on (or holds, or has it again) instead of a batch being
   * settled or a retry queued.
   */
  head?: { token: string; onExhausted: "hold" | "skip"; nextAt: number };
}

/** What becomes of an ordered hook's head with its outcome (see @hookwire/queue's sequence.ts). */
function sequenceStep(end: DeliveryEnd, head: NonNullable<CommitOptions["head"]>, now: number): SequenceStep {
  if (end.kind === "deferred") return { kind: "release", at: Math.max(now, end.notBefore) };
  if (end.retryDelayMs !== undefined)
    return {
      kind: "retry",
      delivery: { ...end.delivery, attemptsMade: end.attempt },
      at: now + end.retryDelayMs,
    };
  // A head that gave up (a render failure too) holds the hook or is skipped; a deleted hook's goes.
  if (end.status === "failed" && head.onExhausted === "hold" && end.unsendable !== "deleted")
    return {
      kind: "hold",
      delivery: { ...end.delivery, attemptsMade: end.attempt },
      reason: end.reason ?? "failed",
    };
  return { kind: "pop", nextAt: head.nextAt };
}

/**
 * Writes what became of batch `batchId` of `hookId`'s deliveries, in one commit, and disables the
 * hook afterwards when an outcome says so. Health, metrics and logs learn of each outcome once;
 * the Redis steps go through `persist`, which may run them again until they land.
 */
export async function commitOutcomes(
  ctx: WorkerContext,
  batchId: string,
  hookId: string,
  ends: readonly DeliveryEnd[],
  { hook, persist = once, release, head }: CommitOptions = {},
): Promise<void> {
  const now = Date.now();
  const step = head === undefined || ends[0] === undefined ? undefined : sequenceStep(ends[0], head, now);
  const settled: Settled[] = [];
  const deferred: JobDelivery[] = [];
  let notBefore = 0;
  for (const end of ends) {
    if (end.kind === "settled") settled.push(end);
    else {
      deferred.push(end.delivery);
      notBefore = Math.max(notBefore, end.notBefore);
    }
  }
  const circuit = ctx.health.state(hookId);
  const probeAt = circuit.state === "closed" ? 0 : (circuit.probeAt ?? 0);
  const retried = settled.filter((s) => s.delivery.attemptsMade > 0).map((s) => s.delivery.id);
  const previous = await persist(() => ctx.log.getMany(retried));
  const updates: { record: DeliveryRecord; previous: DeliveryStatus | undefined }[] = [];
  const batches: OutboxBatch[] = [];
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
    if (step?.kind === "hold")
      record.reason = `${s.reason ?? "failed"}; the hook's ordered deliveries wait until this one is retried or skipped`;
    if (s.retryDelayMs !== undefined) record.nextAttemptAt = now + s.retryDelayMs;
    if (s.status === "failed") record.payload = { ...s.delivery, attemptsMade: s.attempt };
    updates.push({ record, previous: before?.status });
    const stat: DeliveryStat = {
      hookId,
      status: s.retryDelayMs !== undefined ? "pending" : s.status,
      acceptedAt: s.delivery.acceptedAt,
    };
    if (s.attemptRecord !== undefined && s.durationMs !== undefined)
      stat.attempt = { outcome: attemptOutcome(s.attemptRecord.outcome), durationMs: s.durationMs };
    stats.push(stat);
    if (s.retryDelayMs !== undefined) {
      // An ordered head is tried again in its place (see sequenceStep), not queued.
      if (step === undefined)
        batches.push({
          id: attemptJobId(s.delivery.id, s.attempt + 1),
          data: { hookId, deliveries: [{ ...s.delivery, attemptsMade: s.attempt }] },
          // Not before the hook's next probe either: a retry due sooner would only come back to
          // be sent back again, while the circuit is open.
          notBefore: Math.max(now + s.retryDelayMs, probeAt),
        });
    } else {
      ctx.observer.settled({ status: s.status, acceptedAt: s.delivery.acceptedAt, at: now });
    }
    if (s.disableReason !== undefined) disableReason ??= s.disableReason;
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
  const events = eventsOf(hookId, settled, now);
  if (deferred.length > 0 && step === undefined) {
    // Not attempted: back to the queue as they were, in a batch of their own.
    const rest: OutboxBatch = { id: `${hookId}.${randomUUID()}`, data: { hookId, deliveries: deferred } };
    if (notBefore > now) rest.notBefore = notBefore;
    batches.push(rest);
  }

  await persist(() =>
    ctx.writer.commit(
      {
        updates,
        batches,
        settled: step === undefined ? [batchId] : [],
        also: (tx) => {
          if (step !== undefined && head !== undefined) {
            const { delivery } = ends[0] as DeliveryEnd;
            ctx.writer.outbox.sequences.addAdvance(tx, hookId, head.token, delivery.id, step, now);
          }
          ctx.health.persist(tx, hookId);
          // Not attempted, still pending: their records' buckets are kept as long as they wait.
          if (deferred.length > 0) ctx.log.keepPending(tx, hookId, deferred);
          ctx.stats?.record(tx, stats, now);
          if (release !== undefined) ctx.limits.addRelease(tx, hookId, release);
          for (const event of events) addEvent(tx, ctx.keys, event);
        },
      },
      now,
    ),
  );

  if (disableReason !== undefined && hook !== undefined) {
    await disableHook(ctx, hookId, disableReason).catch((error: unknown) =>
      ctx.logger.error({ hookId, err: error }, "could not disable the hook"),
    );
  }
}

/** An attempt's queue verb (done, retry, give_up) as the outcome label metrics and stats use. */
function attemptOutcome(verb: string): "succeeded" | "retry" | "failed" {
  return verb === "done" ? "succeeded" : verb === "retry" ? "retry" : "failed";
}

async function disableHook(ctx: WorkerContext, hookId: string, reason: string): Promise<void> {
  const now = Date.now();
  await ctx.hooks.update(hookId, (hook) => ({
    ...hook,
    on: false,
    disabled: { reason, at: new Date(now).toISOString() },
  }));
  ctx.observer.hookDisabled();
  ctx.logger.warn({ hookId, reason }, "hook disabled");
  await writeEvent(ctx.redis, ctx.keys, { action: "hookDisabled", hookId, at: now, detail: reason });
}

/**
 * The operational events a batch's outcomes tell of: each change of the hook's circuit, and at
 * most one delivery given up and one OAuth failure per batch (the first, with how many more), so
 * that a dead receiver's backlog is one event a batch, not one a delivery.
 */
function eventsOf(hookId: string, settled: readonly Settled[], at: number): OperationalEvent[] {
  const events: OperationalEvent[] = [];
  let exhausted: Settled | undefined;
  let exhaustedCount = 0;
  let oauth: Settled | undefined;
  let oauthCount = 0;
  for (const s of settled) {
    if (s.circuit === "opened")
      events.push({ action: "hookCircuitOpened", hookId, at, detail: s.reason ?? "the receiver failed" });
    else if (s.circuit === "closed")
      events.push({ action: "hookCircuitClosed", hookId, at, detail: "the receiver answered again" });
    if (s.status === "failed" && s.attemptRecord !== undefined && exhaustedCount++ === 0) exhausted = s;
    if (s.oauthFailure !== undefined && oauthCount++ === 0) oauth = s;
  }
  const more = (count: number) => (count > 1 ? ` (and ${count - 1} more in the same batch)` : "");
  if (exhausted !== undefined) {
    const { delivery, attempt, reason } = exhausted;
    const attempts = `${attempt} attempt${attempt === 1 ? "" : "s"}`;
    events.push({
      action: "deliveryExhausted",
      hookId,
      at,
      detail: `delivery ${delivery.id} failed after ${attempts}: ${reason ?? "no reason given"}${more(exhaustedCount)}`,
    });
  }
  if (oauth !== undefined)
    events.push({
      action: "oauthRefreshFailed",
      hookId,
      at,
      detail: `${oauth.oauthFailure}${more(oauthCount)}`,
    });
  return events;
}
