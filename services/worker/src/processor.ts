import { setImmediate } from "node:timers/promises";
import {
  type BatchRef,
  batchRefsOf,
  type DeliveryJobData,
  held,
  type JobDelivery,
  jobBackoffMs,
} from "@hookwire/queue";
import { DelayedError, type Job } from "bullmq";
import { circuitWait, type Dispatcher, leaveHook } from "./dispatcher";
import { commitOutcomes, sendable, unsendable } from "./outcomes";
import type { WorkerContext } from "./worker-context";

/**
 * Processes one job in a few milliseconds: a batch of one hook's deliveries, or small batches of
 * one ingest request, one per hook (up to MAX_JOB_DELIVERIES in all: see RequestJobData). Each
 * batch is handed to the dispatcher unless its hook cannot take it now. A busy hook's batch (its
 * deliveries here move, but it has more than it can work off soon) is parked in the dispatcher
 * and handed over when the hook has room; a batch whose hook is stalled (no answer for a while),
 * whose circuit is open or whose limits are spent elsewhere goes back to the queue, delayed. The
 * job's slot is never held while deliveries wait on a receiver, nor while they wait for room.
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
    const next = await handOver(ctx, dispatcher, ref, job.attemptsStarted, job.data.deliveries);
    if (next === undefined) return;
    if ("retryAt" in next) return park(ctx, dispatcher, [{ ref, ...next }], job.attemptsStarted);
    await job.moveToDelayed(next.at, token);
    throw new DelayedError();
  }

  // Batches of hooks that can send at once first (fewer deliveries held here than a gate's
  // default width), so that their requests are on the wire before the CPU goes to the rest
  // (hooks that are busy or hanging): in a job of 40 hooks the healthy one's would otherwise
  // leave after all the others were dealt with.
  const refs = job.data.batches;
  const waiting = (ref: BatchRef) => ctx.backlogs.held(ref.hookId) >= ctx.settings.perHookConcurrency;
  const idle = refs.filter((ref) => !waiting(ref));
  const busy = refs.filter(waiting);
  const handedOver = (batch: readonly BatchRef[]) =>
    Promise.allSettled(batch.map((ref) => handOver(ctx, dispatcher, ref, 1)));
  const outcomes = await handedOver(idle);
  if (busy.length > 0) {
    await setImmediate();
    outcomes.push(...(await handedOver(busy)));
  }
  const back: { ref: BatchRef; notBefore: number }[] = [];
  const parks: ({ ref: BatchRef } & ParkAt)[] = [];
  [...idle, ...busy].forEach((ref, i) => {
    const outcome = outcomes[i]!;
    if (outcome.status === "fulfilled") {
      const next = outcome.value;
      if (next === undefined) return;
      if ("retryAt" in next) parks.push({ ref, ...next });
      else back.push({ ref, notBefore: next.at });
      return;
    }
    ctx.logger.error(
      { jobId, batchId: ref.id, hookId: ref.hookId, err: outcome.reason },
      "a batch could not be handed over; it goes back to the queue on its own, to be retried",
    );
    back.push({ ref, notBefore: Date.now() + jobBackoffMs(1) });
  });
  // Should either fail too (Redis away), the whole job is run again: what was handed over or
  // parked already is held here and skipped.
  await park(ctx, dispatcher, parks, 1);
  await ctx.writer.outbox.requeue(back);
}

/**
 * A batch to park (see Dispatcher.park), to be tried at `retryAt` at the latest, and sooner once
 * its hook's backlog here admits it through `gate` (the hook's concurrency and rate).
 */
interface ParkAt {
  retryAt: number;
  gate: Gate;
}

type Gate = { concurrency: number; ratePerSecond?: number | undefined };

/**
 * Parks batches in the dispatcher once their leases are renewed: from then on, with their jobs
 * done, the leases (renewed by the heartbeat) are what keeps a sweeper away while they wait here.
 */
async function park(
  ctx: WorkerContext,
  dispatcher: Dispatcher,
  parks: readonly ({ ref: BatchRef } & ParkAt)[],
  attemptsStarted: number,
): Promise<void> {
  if (parks.length === 0) return;
  // A lease that outlasts the next heartbeat or two needs no renewal now: the heartbeat renews it
  // in time (every third of a lease). Jobs queued at once are fetched well within their lease, so
  // a busy hook's batches mostly park without a round trip of their own.
  const { leaseMs } = ctx.writer.outbox;
  const now = Date.now();
  const renew = parks.filter(
    ({ ref }) => ref.leasedUntil === undefined || ref.leasedUntil - now < (leaseMs * 2) / 3,
  );
  if (renew.length > 0) {
    await ctx.writer.outbox.renew(
      ctx.redis,
      renew.map(({ ref }) => ref.id),
    );
  }
  for (const { ref, retryAt, gate } of parks) {
    // Each turn that finds no room counts as a run of its job: the waits back off as they did.
    let turns = 0;
    dispatcher.park(
      ref,
      retryAt,
      async () => {
        const next = await handOver(ctx, dispatcher, ref, attemptsStarted + turns, undefined, true);
        if (next === undefined) return undefined;
        turns++;
        return { at: "at" in next ? next.at : next.retryAt };
      },
      () =>
        ctx.backlogs.admit(ref.hookId, ref.size, gate, Date.now(), 0, ctx.limits.heldElsewhere(ref.hookId))
          .admit,
    );
  }
}

/**
 * Hands one batch over to the dispatcher (undefined), or answers when it may be tried again:
 * `at` (epoch ms) in the queue, or `retryAt` parked here (a busy hook, see Dispatcher.park).
 * `attemptsStarted`: how often the job was run (1 the first time); `carried`: the deliveries of a
 * job from before the outbox, which carried them itself (never parked: they are in no outbox);
 * `parked`: the batch is parked here already, and this is its turn.
 */
async function handOver(
  ctx: WorkerContext,
  dispatcher: Dispatcher,
  ref: BatchRef,
  attemptsStarted: number,
  carried?: JobDelivery[],
  parked = false,
): Promise<{ at: number } | ParkAt | undefined> {
  const { id: batchId, hookId, size } = ref;
  // Held here already: a job of many run again after a failure, or a job of its own besides.
  if (!parked && dispatcher.holds(batchId)) return undefined;
  const stored = await ctx.hooks.get(hookId);
  const found = sendable(stored, stored === undefined ? undefined : ctx.catalog.get(stored.integration));
  if ("reason" in found) {
    const deliveries = (await ctx.writer.outbox.read(ctx.redis, batchId))?.data.deliveries ?? carried;
    if (deliveries === undefined) return undefined; // settled already
    await commitOutcomes(
      ctx,
      batchId,
      hookId,
      deliveries.map((d) => unsendable(d, found)),
    );
    return undefined;
  }
  const { hook, integration } = found;

  // The hook's circuit is open: wait for the probe without spending any attempt.
  const waitUntil = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (waitUntil !== undefined) return { at: waitUntil };

  const request = {
    concurrency: hook.delivery.concurrency ?? ctx.settings.perHookConcurrency,
    ratePerSecond: hook.delivery.ratePerSecond,
    size,
  };
  const mayPark = !parked && carried === undefined && dispatcher.mayPark(size);
  // Behind the hook's parked batches, in the order they came.
  if (mayPark && dispatcher.hasParked(hookId))
    return { retryAt: Date.now() + PARKED_RETRY_MS, gate: request };
  const verdict = ctx.backlogs.admit(
    hookId,
    size,
    request,
    Date.now(),
    Math.max(0, attemptsStarted - 1),
    ctx.limits.heldElsewhere(hookId),
  );
  if (!verdict.admit) {
    const at = Date.now() + (dispatcher.closing ? 0 : verdict.delayMs);
    // Busy, not stalled: the batch waits here for room, holding no slot (keeps a drain from
    // churning its jobs between the queue and here). Stalled: its job leaves the worker.
    return mayPark && !verdict.stalled ? { retryAt: at, gate: request } : { at };
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
  let take = ctx.limits.answer(hookId, request, taken);
  ctx.health.sync(hookId, take.health);
  if (!take.accepted && take.kept) {
    // Refused only because this worker gave its slots back while the take was on its way (the
    // last batch of the hook ended meanwhile, as between the bursts of a steady stream): taken
    // again at once rather than sent back to wait out a backoff.
    take = await ctx.limits.retake(ctx.redis, hookId, request, Date.now());
    ctx.health.sync(hookId, take.health);
  }
  const inOutbox = held(batchId, holdAnswer);
  // In the outbox: its deliveries are there. Not: a job from before the outbox carries them
  // itself, or the batch was settled already (its job run again after a crash): nothing to do.
  const deliveries = inOutbox?.data.deliveries ?? carried;
  const blocked = circuitWait(ctx, dispatcher, hookId, Date.now());
  if (!take.accepted || blocked !== undefined || deliveries === undefined) {
    if (take.kept) {
      // Give the slots and the count back.
      const release = leaveHook(ctx, hookId, size);
      const back = ctx.redis.pipeline();
      ctx.limits.addRelease(back, hookId, release);
      await back.exec();
    }
    if (deliveries === undefined) return undefined;
    // Every slot of the hook is taken by other workers, its tokens are spent, or its circuit is
    // open: back to the queue until then.
    const until = blocked ?? take.nextTokenAt ?? Date.now() + backoffMs(attemptsStarted);
    return { at: Math.max(until, Date.now()) };
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
    },
    take.sendable,
    restDue,
  );
  return undefined;
}

/** A batch parked behind others of its hook is tried at the latest after this. */
const PARKED_RETRY_MS = 1_000;

/** A job refused for want of a slot: 50 ms doubling to 2 s while it keeps coming back. */
function backoffMs(attemptsStarted: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(Math.max(attemptsStarted - 1, 0), 6));
}
