import { errorBodyAllowed } from "@hookwire/delivery";
import { type DeliveryJobData, held } from "@hookwire/queue";
import { DelayedError, type Job } from "bullmq";
import { circuitWait, type Dispatcher } from "./dispatcher";
import { commitOutcomes, unsent } from "./outcomes";
import type { WorkerContext } from "./worker-context";

/**
 * Processes one job, a batch of one hook's deliveries, in a few milliseconds: checks the hook,
 * lets the job wait in the queue while the hook's circuit is open or the hook already has more
 * here than it can work off soon, and otherwise hands the batch to the dispatcher and completes.
 * The job's slot is never held while deliveries wait on a receiver.
 *
 * Anything that throws here (Redis away, a hook whose secrets this worker cannot decrypt) fails
 * the job's run, and BullMQ runs it again with backoff (JOB_OPTIONS): a batch is never dropped.
 */
export async function processDeliveryJob(
  job: Job<DeliveryJobData>,
  token: string | undefined,
  ctx: WorkerContext,
  dispatcher: Dispatcher,
): Promise<void> {
  const { hookId } = job.data;
  const size = job.data.size ?? job.data.deliveries?.length ?? 0;
  const batchId = job.id ?? "";
  const hook = await ctx.hooks.get(hookId);
  const integration = hook === undefined ? undefined : ctx.catalog.get(hook.integration);
  if (hook === undefined || !hook.on || integration === undefined) {
    const [status, reason] =
      hook === undefined
        ? (["failed", "the hook was deleted"] as const)
        : !hook.on
          ? (["skipped", "the hook is turned off"] as const)
          : (["failed", `integration ${hook.integration} is not in the catalog`] as const);
    const deliveries =
      (await ctx.writer.outbox.read(ctx.redis, batchId))?.data.deliveries ?? job.data.deliveries;
    if (deliveries === undefined) return; // settled already
    await commitOutcomes(
      ctx,
      batchId,
      hookId,
      deliveries.map((d) => unsent(d, status, reason)),
    );
    return;
  }

  const waitUntil = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (waitUntil !== undefined) {
    // The hook's circuit is open: wait for the probe without spending any attempt.
    await job.moveToDelayed(waitUntil, token);
    throw new DelayedError();
  }

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
      Math.max(0, job.attemptsStarted - 1),
      ctx.limits.heldElsewhere(hookId),
    );
    if (verdict.admit) break;
    if (verdict.stalled || !dispatcher.canWait()) {
      // The hook has more waiting than it can work off soon: let the slot serve others.
      await job.moveToDelayed(Date.now() + (dispatcher.closing ? 0 : verdict.delayMs), token);
      throw new DelayedError();
    }
    // Busy, not stalled: wait in the slot for its deliveries to move (keeps a drain from churning
    // its jobs between the queue and here), while enough slots stay free for other hooks.
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
  const deliveries = inOutbox?.data.deliveries ?? job.data.deliveries;
  const blocked = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (!take.accepted || blocked !== undefined || deliveries === undefined) {
    if (take.accepted) {
      // Give the slots and the count back.
      const release = ctx.limits.leaving(hookId, size);
      const back = ctx.redis.pipeline();
      ctx.limits.addRelease(back, hookId, release);
      await back.exec();
    }
    if (deliveries === undefined) return;
    // Every slot of the hook is taken by other workers, its tokens are spent, or its circuit is
    // open: back to the queue until then.
    const until = blocked ?? take.nextTokenAt ?? Date.now() + backoffMs(job.attemptsStarted);
    await job.moveToDelayed(Math.max(until, Date.now()), token);
    throw new DelayedError();
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
}

/** A job refused for want of a slot: 50 ms doubling to 2 s while it keeps coming back. */
function backoffMs(attemptsStarted: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(Math.max(attemptsStarted - 1, 0), 6));
}
