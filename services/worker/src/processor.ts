import { errorBodyAllowed } from "@hookwire/delivery";
import type { DeliveryJobData } from "@hookwire/queue";
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
  const { hookId, deliveries } = job.data;
  const batchId = job.id ?? "";
  const hook = await ctx.hooks.get(hookId);
  if (hook === undefined || !hook.on) {
    const reason = hook === undefined ? "the hook was deleted" : "the hook is turned off";
    const status = hook === undefined ? "failed" : "skipped";
    await commitOutcomes(
      ctx,
      batchId,
      hookId,
      deliveries.map((d) => unsent(d, status, reason)),
    );
    return;
  }
  const integration = ctx.catalog.get(hook.integration);
  if (integration === undefined) {
    const reason = `integration ${hook.integration} is not in the catalog`;
    await commitOutcomes(
      ctx,
      batchId,
      hookId,
      deliveries.map((d) => unsent(d, "failed", reason)),
    );
    return;
  }

  const waitUntil = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (waitUntil !== undefined) {
    // The hook's circuit is open: wait for the probe without spending any attempt.
    await job.moveToDelayed(waitUntil, token);
    throw new DelayedError();
  }

  const gate = {
    concurrency: hook.delivery.concurrency ?? ctx.settings.perHookConcurrency,
    ratePerSecond: hook.delivery.ratePerSecond,
  };
  for (;;) {
    const verdict = ctx.backlogs.admit(
      hookId,
      deliveries.length,
      gate,
      Date.now(),
      Math.max(0, job.attemptsStarted - 1),
    );
    if (verdict.admit) break;
    if (verdict.stalled || !dispatcher.canWait()) {
      // The hook has more waiting here than it can work off soon: let the slot serve others.
      await job.moveToDelayed(Date.now() + (dispatcher.closing ? 0 : verdict.delayMs), token);
      throw new DelayedError();
    }
    // Busy, not stalled: wait in the slot for its deliveries to move (keeps a drain from churning
    // its jobs between the queue and here), while enough slots stay free for other hooks.
    await dispatcher.room(hookId, verdict.delayMs);
  }

  // From here this worker holds the batch: its lease is renewed until its outcomes are written.
  const batch = { id: batchId, data: job.data };
  if (!(await ctx.writer.outbox.hold(ctx.redis, batchId))) {
    // Not in the outbox (a job from before it, or one re-run after its batch was written):
    // commit it now, so that what follows is as safe as for any other batch.
    await ctx.writer.commit({ held: [batch] });
  }
  dispatcher.submit({
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
  });
}
