import { setImmediate } from "node:timers/promises";
import { errorBodyAllowed } from "@hookwire/delivery";
import {
  type BatchRef,
  batchRefsOf,
  type DeliveryJobData,
  held,
  type JobDelivery,
  jobBackoffMs,
} from "@hookwire/queue";
import { DelayedError, type Job } from "bullmq";
import { circuitWait, type Dispatcher } from "./dispatcher";
import { commitOutcomes, unsent } from "./outcomes";
import type { WorkerContext } from "./worker-context";

/**
 * Processes one job in a few milliseconds: a batch of one hook's deliveries, or small batches of
 * one ingest request, one per hook (up to 25 deliveries in all: see RequestJobData). Each batch is handed to the dispatcher
 * unless its hook cannot take it now (its circuit is open, or the hook already has more here
 * than it can work off soon); then a job of one batch waits in the queue, delayed, and a job of
 * many sends that batch back as a job of its own. The job's slot is never held while deliveries
 * wait on a receiver.
 *
 * Anything that throws here (Redis away, a hook whose secrets this worker cannot decrypt) fails
 * the job's run, and BullMQ runs it again with backoff (JOB_OPTIONS): a batch is never dropped.
 * In a job of many, a batch whose hand-over throws goes back as a job of its own, to be retried
 * alone, so that the other hooks' batches are handed over once.
 */
export async function processDeliveryJob(
  job: Job<DeliveryJobData>,
  token: string | undefined,
  ctx: WorkerContext,
  dispatcher: Dispatcher,
): Promise<void> {
  const jobId = job.id ?? "";
  if (!("batches" in job.data)) {
    const [ref] = batchRefsOf(jobId, job.data);
    if (ref === undefined) return;
    const until = await handOver(ctx, dispatcher, ref, job.attemptsStarted, true, job.data.deliveries);
    if (until === undefined) return;
    await job.moveToDelayed(until, token);
    throw new DelayedError();
  }

  // Batches of hooks that can send at once first (fewer deliveries held here than a gate's
  // default width), so that their requests are on the wire before the CPU goes to parking the
  // rest (hooks that are busy or hanging): in a job of 40 hooks the healthy one's would otherwise
  // leave after all the others were parked.
  const refs = job.data.batches;
  const waiting = (ref: BatchRef) => ctx.backlogs.held(ref.hookId) >= ctx.settings.perHookConcurrency;
  const idle = refs.filter((ref) => !waiting(ref));
  const busy = refs.filter(waiting);
  const handedOver = (batch: readonly BatchRef[]) =>
    Promise.allSettled(batch.map((ref) => handOver(ctx, dispatcher, ref, 1, false)));
  const outcomes = await handedOver(idle);
  if (busy.length > 0) {
    await setImmediate();
    outcomes.push(...(await handedOver(busy)));
  }
  const back: { ref: BatchRef; notBefore: number }[] = [];
  [...idle, ...busy].forEach((ref, i) => {
    const outcome = outcomes[i]!;
    if (outcome.status === "fulfilled") {
      if (outcome.value !== undefined) back.push({ ref, notBefore: outcome.value });
      return;
    }
    ctx.logger.error(
      { jobId, batchId: ref.id, hookId: ref.hookId, err: outcome.reason },
      "a batch could not be handed over; it goes back to the queue on its own, to be retried",
    );
    back.push({ ref, notBefore: Date.now() + jobBackoffMs(1) });
  });
  // Should this fail too (Redis away), the whole job is run again: what was handed over already
  // is held here and skipped.
  await ctx.writer.outbox.requeue(back);
}

/**
 * Hands one batch over to the dispatcher, or answers when it may be tried again (epoch ms).
 * `attemptsStarted`: how often the job was run (1 the first time); `mayWait`: whether the job may
 * wait in its slot for room (a job of one batch); `carried`: the deliveries of a job from before
 * the outbox, which carried them itself.
 */
async function handOver(
  ctx: WorkerContext,
  dispatcher: Dispatcher,
  ref: BatchRef,
  attemptsStarted: number,
  mayWait: boolean,
  carried?: JobDelivery[],
): Promise<number | undefined> {
  const { id: batchId, hookId, size } = ref;
  // Held here already: a job of many run again after a failure, or a job of its own besides.
  if (dispatcher.holds(batchId)) return undefined;
  const hook = await ctx.hooks.get(hookId);
  const integration = hook === undefined ? undefined : ctx.catalog.get(hook.integration);
  if (hook === undefined || !hook.on || integration === undefined) {
    const [status, reason] =
      hook === undefined
        ? (["failed", "the hook was deleted"] as const)
        : !hook.on
          ? (["skipped", "the hook is turned off"] as const)
          : (["failed", `integration ${hook.integration} is not in the catalog`] as const);
    const deliveries = (await ctx.writer.outbox.read(ctx.redis, batchId))?.data.deliveries ?? carried;
    if (deliveries === undefined) return undefined; // settled already
    await commitOutcomes(
      ctx,
      batchId,
      hookId,
      deliveries.map((d) => unsent(d, status, reason)),
    );
    return undefined;
  }

  // The hook's circuit is open: wait for the probe without spending any attempt.
  const waitUntil = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (waitUntil !== undefined) return waitUntil;

  const request = {
    concurrency: hook.delivery.concurrency ?? ctx.settings.perHookConcurrency,
    ratePerSecond: hook.delivery.ratePerSecond,
    size,
  };
  for (;;) {
    const verdict = ctx.backlogs.admit(
      hookId,
      size,
      request,
      Date.now(),
      Math.max(0, attemptsStarted - 1),
      ctx.limits.heldElsewhere(hookId),
    );
    if (verdict.admit) break;
    // The hook has more waiting than it can work off soon: let the slot serve others.
    if (verdict.stalled || !dispatcher.canWait())
      return Date.now() + (dispatcher.closing ? 0 : verdict.delayMs);
    // A job of many does not wait: its other hooks' batches are handed over already. The batch
    // goes back as a job of its own, due now, which may wait.
    if (!mayWait) return Date.now();
    // Busy, not stalled: a job of one batch waits in its slot for the hook's deliveries to move
    // (keeps a drain from churning its jobs between the queue and here), while enough slots stay
    // free for other hooks.
    await dispatcher.room(hookId, verdict.delayMs);
  }
  // One round trip: hold the batch in the outbox (its lease renewed from now until its outcomes
  // are written), and take the hook's shared slots and tokens, reading its circuit on the way.
  const now = Date.now();
  const pipeline = ctx.redis.pipeline();
  ctx.writer.outbox.addHold(pipeline, batchId, now);
  ctx.limits.addTake(pipeline, hookId, request, now);
  const [[holdError, holdAnswer] = [null, null], [takeError, taken] = [null, null]] =
    (await pipeline.exec()) ?? [];
  if (holdError) throw holdError;
  if (takeError) throw takeError;
  const take = ctx.limits.answer(hookId, request, taken);
  ctx.health.sync(hookId, take.health);
  const inOutbox = held(batchId, holdAnswer);
  // In the outbox: its deliveries are there. Not: a job from before the outbox carries them
  // itself, or the batch was settled already (its job run again after a crash): nothing to do.
  const deliveries = inOutbox?.data.deliveries ?? carried;
  const blocked = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (!take.accepted || blocked !== undefined || deliveries === undefined) {
    if (take.kept) {
      // Give the slots and the count back.
      const release = ctx.limits.leaving(hookId, size);
      const back = ctx.redis.pipeline();
      ctx.limits.addRelease(back, hookId, release);
      await back.exec();
    }
    if (deliveries === undefined) return undefined;
    // Every slot of the hook is taken by other workers, its tokens are spent, or its circuit is
    // open: back to the queue until then.
    const until = blocked ?? take.nextTokenAt ?? Date.now() + backoffMs(attemptsStarted);
    return Math.max(until, Date.now());
  }
  if (inOutbox === undefined) {
    // A job from before the outbox: commit its batch now, so that what follows is as safe as for
    // any other batch.
    await ctx.writer.commit({ held: [{ id: batchId, data: { hookId, deliveries } }] });
  }
  // The rest of a batch the rate cut short is due when the tokens for it come.
  const rate = request.ratePerSecond;
  const restDue =
    take.sendable < deliveries.length && rate !== undefined
      ? (take.nextTokenAt ?? now) + Math.ceil(((deliveries.length - take.sendable - 1) * 1000) / rate)
      : 0;
  dispatcher.submit(
    {
      id: batchId,
      hook,
      integration,
      deliveries,
      captureErrorBody:
        integration.includeErrorResponseBody &&
        errorBodyAllowed({
          urlHostIsFixed: integration.urlHostIsFixed,
          privateNetworksBlocked: ctx.settings.privateNetworksBlocked,
        }),
    },
    take.sendable,
    restDue,
  );
  return undefined;
}

/** A job refused for want of a slot: 50 ms doubling to 2 s while it keeps coming back. */
function backoffMs(attemptsStarted: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(Math.max(attemptsStarted - 1, 0), 6));
}
