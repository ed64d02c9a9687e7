/**
 * Where a worker's deliveries wait and run, apart from BullMQ's job slots.
 *
 * A job hands its batch over (`submit`) and completes at once: the batch is still in the outbox,
 * and this worker renews its lease there while it holds it (`heartbeat`), so a crash leaves it to
 * another worker's sweeper, never lost. The deliveries then wait for their hook's gate here, in
 * memory, so that any number of hooks whose receivers hang hold nothing but their own gates and
 * sockets: the job slots stay free for every other hook. Before each attempt the hook's circuit
 * is asked: open, the delivery waits here for the next probe without spending an attempt;
 * probing, it waits for the probe's verdict. Stopping, every waiting delivery is deferred (back
 * to the queue as it was). When the last delivery of a batch is done, everything learned is
 * committed in one go (outcomes.ts) and the batch is let go.
 *
 * A job whose hook is busy (it has more here than it can work off soon) completes at once too:
 * its batch is parked here, its lease renewed like a held batch's, and handed over in turn as the
 * hook's deliveries here come to an end. Sending it back to the queue instead, delayed, cost a
 * drain of one hook three round trips per batch and left its gate empty whenever the delay
 * outlasted the work in hand.
 */
import type { Integration } from "@hookwire/manifest";
import type { BatchRef, JobDelivery } from "@hookwire/queue";
import type { Hook } from "@hookwire/store";
import type { Heard } from "./hook-gate";
import type { Release } from "./hook-limits";
import { attemptDelivery, commitOutcomes, type DeliveryEnd, type Persist, patient } from "./outcomes";
import type { WorkerContext } from "./worker-context";

/** A batch as a job handed it over. */
export interface HeldBatch {
  /** The batch's (and its job's) id in the outbox. */
  id: string;
  hook: Hook;
  integration: Integration;
  deliveries: readonly JobDelivery[];
}

interface Holding {
  batch: HeldBatch;
  ends: DeliveryEnd[];
  open: number;
}

/** What an attempt tells the hook's gate: an answer (any status) widens it, none narrows it. */
function heardOf(end: DeliveryEnd): Heard {
  if (end.kind !== "settled" || end.attemptRecord === undefined) return "none";
  return end.attemptRecord.statusCode === undefined ? "unanswered" : "answered";
}

/**
 * A parked batch's hand-over: undefined once it is handed over (or was settled already), else
 * when to try again (epoch ms).
 */
export type Resumed = { at: number } | undefined;

interface Parked {
  ref: BatchRef;
  resume: () => Promise<Resumed>;
  /** Whether the hook would take the batch now, as far as this worker knows (no round trip). */
  ready: () => boolean;
}

/**
 * Deliveries, and batches, parked in one worker at most: past that, a busy hook's jobs are
 * delayed in the queue instead. A parked batch is its reference only (its deliveries stay in the
 * outbox until it is handed over), about 300 bytes, and one member of the heartbeat's lease
 * renewal: so the bound is wide. Each job past it comes back every few hundred ms (a fetch, a
 * delay and a fetch again), which cost a drain of 30 000 deliveries a tenth of the worker's CPU
 * when the bound was 20 000.
 */
const MAX_PARKED_DELIVERIES = 100_000;
const MAX_PARKED_BATCHES = 10_000;
/** A parked batch whose hand-over threw is tried again after this. */
const PARK_RETRY_MS = 1_000;

export class Dispatcher {
  readonly #ctx: WorkerContext;
  readonly #held = new Map<string, Holding>();
  /** Per hook, the probe in flight: deliveries behind an open circuit wait for its verdict. */
  readonly #probes = new Map<string, Promise<void>>();
  /** Per hook, its parked batches in the order they came (see `park`). */
  readonly #parked = new Map<string, Parked[]>();
  readonly #parkedIds = new Set<string>();
  #parkedDeliveries = 0;
  /** Per hook, the pass handing its parked batches over, and the hooks woken during one. */
  readonly #resuming = new Map<string, Promise<void>>();
  readonly #rewoken = new Set<string>();
  /** Per hook, when its parked batches are tried next at the latest. */
  readonly #parkTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Per hook, when its open circuit lets a probe out: deliveries behind it wait for that. */
  readonly #circuitWaits = new Map<string, { until: number; done: Promise<void>; wake: () => void }>();
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
    this.#persist = patient(ctx);
  }

  /** Ids of the batches held now, parked ones too (the heartbeat renews their leases). */
  heldIds(): string[] {
    return [...this.#held.keys(), ...this.#parkedIds];
  }

  holds(id: string): boolean {
    return this.#held.has(id) || this.#parkedIds.has(id);
  }

  /** Whether a probe of the hook is in flight here. */
  probing(hookId: string): boolean {
    return this.#probes.has(hookId);
  }

  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Takes a batch in; its deliveries run as its hook's gate allows (as wide as the slots this
   * worker holds for the hook). The first `sendable` may be sent now; the rest (the hook's rate
   * gave fewer tokens) go back to the queue, due when the tokens come. Never throws.
   */
  submit(batch: HeldBatch, sendable = batch.deliveries.length, notBefore = 0): void {
    const hookId = batch.hook.id;
    const holding: Holding = { batch, ends: [], open: batch.deliveries.length };
    this.#held.set(batch.id, holding);
    this.#ctx.backlogs.enter(hookId, batch.deliveries.length, Date.now());
    const gate = this.#ctx.gates.for(hookId, Math.max(1, this.#ctx.limits.width(hookId)));
    batch.deliveries.forEach((delivery, i) => {
      if (i >= sendable) {
        this.#ended(holding, { kind: "deferred", delivery, notBefore });
        return;
      }
      gate.submit(
        () => this.#attemptOrDefer(batch, delivery),
        heardOf,
        (end) => this.#ended(holding, end),
        (error: unknown) => {
          // attemptDelivery never throws; should anything else, the delivery goes back as it was.
          this.#ctx.logger.error({ err: error, deliveryId: delivery.id }, "delivery could not be attempted");
          this.#ended(holding, { kind: "deferred", delivery, notBefore: 0 });
        },
      );
    });
  }

  /** Whether batches of the hook are parked here, waiting for room (see `park`). */
  hasParked(hookId: string): boolean {
    return (this.#parked.get(hookId)?.length ?? 0) > 0;
  }

  /** Whether a batch of `size` deliveries may be parked here: this worker is not stopping, nor full. */
  mayPark(size: number): boolean {
    return (
      !this.#closing &&
      this.#parkedDeliveries + size <= MAX_PARKED_DELIVERIES &&
      this.#parkedIds.size < MAX_PARKED_BATCHES
    );
  }

  /**
   * Parks a batch whose hook is busy (its lease renewed already, see processor.ts): it waits here
   * behind the hook's other parked batches, holding no job slot, and `resume` hands it over when
   * the hook has room (one of its deliveries here is done and `ready` says so), or at `retryAt` at
   * the latest (the room may come from other workers).
   */
  park(ref: BatchRef, retryAt: number, resume: () => Promise<Resumed>, ready: () => boolean): void {
    let line = this.#parked.get(ref.hookId);
    if (line === undefined) {
      line = [];
      this.#parked.set(ref.hookId, line);
    }
    line.push({ ref, resume, ready });
    this.#parkedIds.add(ref.id);
    this.#parkedDeliveries += ref.size;
    this.#wakeAt(ref.hookId, retryAt);
  }

  /**
   * Sends every parked batch back to the queue, due now: called once this worker takes no more
   * jobs (their own jobs are finished, so each can be queued again under its id). Should Redis not
   * take them, their leases lapse and a sweeper queues them again.
   */
  async unpark(): Promise<void> {
    const back = [...this.#parked.values()].flat().map(({ ref }) => ({ ref, notBefore: 0 }));
    this.#parked.clear();
    this.#parkedIds.clear();
    this.#parkedDeliveries = 0;
    try {
      await this.#ctx.writer.outbox.requeue(back);
    } catch (error) {
      this.#ctx.logger.warn(
        { err: error, batches: back.length },
        "could not queue the parked batches again; a sweeper will once their leases lapse",
      );
    }
  }

  /** Hands the hook's parked batches over in order while it has room; one pass per hook at once. */
  #resume(hookId: string): void {
    if (this.#closing) return;
    if (this.#resuming.has(hookId)) {
      this.#rewoken.add(hookId);
      return;
    }
    const line = this.#parked.get(hookId);
    if (line === undefined) return;
    const pass = (async () => {
      while (!this.#closing) {
        const head = line[0];
        if (head === undefined) break;
        this.#rewoken.delete(hookId);
        let resumed: Resumed;
        try {
          resumed = await head.resume();
        } catch (error) {
          this.#ctx.logger.error(
            { err: error, hookId, batchId: head.ref.id },
            "a parked batch could not be handed over; it is tried again",
          );
          resumed = { at: Date.now() + PARK_RETRY_MS };
        }
        if (resumed !== undefined) {
          // No room yet: at the time given, or sooner when a delivery came to an end meanwhile.
          if (this.#rewoken.delete(hookId) && head.ready()) continue;
          this.#wakeAt(hookId, resumed.at);
          break;
        }
        line.shift();
        this.#parkedIds.delete(head.ref.id);
        this.#parkedDeliveries -= head.ref.size;
      }
    })().finally(() => {
      this.#resuming.delete(hookId);
      if (line.length === 0 && this.#parked.get(hookId) === line) this.#parked.delete(hookId);
    });
    this.#resuming.set(hookId, pass);
  }

  #wakeAt(hookId: string, at: number): void {
    const current = this.#parkTimers.get(hookId);
    if (current !== undefined && current.at <= at) return;
    if (current !== undefined) clearTimeout(current.timer);
    const timer = setTimeout(
      () => {
        this.#parkTimers.delete(hookId);
        this.#resume(hookId);
      },
      Math.max(0, at - Date.now()),
    );
    this.#parkTimers.set(hookId, { at, timer });
  }

  /**
   * Stops: parked batches stay parked (see `unpark`), deliveries not started are deferred, and
   * attempts in flight may finish within `graceMs`; then `abort` (the sender's destroy) cuts them
   * short and they are deferred too. Resolves once every batch is committed (or given up on).
   */
  async drain(graceMs: number, abort: () => Promise<void>): Promise<void> {
    this.#closing = true;
    for (const { timer } of this.#parkTimers.values()) clearTimeout(timer);
    this.#parkTimers.clear();
    for (const wait of this.#circuitWaits.values()) wait.wake();
    // A hand-over under way ends (in a batch held here, or a parked one) before the count below.
    await Promise.allSettled([...this.#resuming.values()]);
    if (this.#held.size === 0) return;
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    if (!(await settledWithin(drained, graceMs))) {
      this.#ctx.logger.warn(
        { graceMs, batches: this.#held.size },
        "in-flight deliveries did not finish within the grace period; they go back to the queue",
      );
      await abort();
      await drained;
    }
  }

  async #attemptOrDefer(batch: HeldBatch, delivery: JobDelivery): Promise<DeliveryEnd> {
    const hookId = batch.hook.id;
    for (;;) {
      if (this.#closing) return { kind: "deferred", delivery, notBefore: 0 };
      const admission = this.#ctx.health.admit(hookId, Date.now());
      if (admission.kind === "send") break;
      if (admission.kind === "probe") {
        // One probe per cool-down among all workers: the first to claim it sends it.
        if (this.#probes.has(hookId)) {
          await this.#probes.get(hookId);
          continue;
        }
        if (await this.#ctx.health.claimProbe(hookId, Date.now())) return this.#probe(batch, delivery);
        continue;
      }
      // Open: wait here for the next probe, without spending an attempt. Waiting in memory, not
      // back in the queue: a circuit opening on hundreds of held deliveries would otherwise
      // write them all back at once, and every other hook would feel that burst.
      await (this.#probes.get(hookId) ?? this.#circuitWait(hookId, admission.until));
    }
    return attemptDelivery(this.#ctx, batch.integration, batch.hook, delivery);
  }

  /** One wait per hook and probe time, however many deliveries wait on it. */
  #circuitWait(hookId: string, until: number): Promise<void> {
    const current = this.#circuitWaits.get(hookId);
    if (current !== undefined && current.until === until) return current.done;
    let wake: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const wait = { until, done, wake };
    this.#circuitWaits.set(hookId, wait);
    void done.then(() => {
      if (this.#circuitWaits.get(hookId) === wait) this.#circuitWaits.delete(hookId);
    });
    return done;
  }

  async #probe(batch: HeldBatch, delivery: JobDelivery): Promise<DeliveryEnd> {
    const hookId = batch.hook.id;
    let verdict: () => void = () => undefined;
    this.#probes.set(
      hookId,
      new Promise<void>((resolve) => {
        verdict = resolve;
      }),
    );
    try {
      // attemptDelivery tells the circuit the probe's answer before it returns.
      return await attemptDelivery(this.#ctx, batch.integration, batch.hook, delivery);
    } finally {
      this.#probes.delete(hookId);
      verdict();
    }
  }

  #ended(holding: Holding, end: DeliveryEnd): void {
    const hookId = holding.batch.hook.id;
    holding.ends.push(end);
    this.#ctx.backlogs.done(hookId, end.kind === "settled" ? end.durationMs : undefined, Date.now());
    // One delivery's room: the hook's parked batches may come in, once the first would be taken.
    // Asked first without a hand-over: a drain ends thousands of deliveries a second, and most
    // leave too little room for a batch.
    const head = this.#parked.get(hookId)?.[0];
    if (head !== undefined && (this.#resuming.has(hookId) || head.ready())) this.#resume(hookId);
    if (--holding.open > 0) return;
    void this.#commit(holding);
  }

  async #commit(holding: Holding): Promise<void> {
    const { batch } = holding;
    // Booked now, once: the commit may be tried several times.
    const release = leaveHook(this.#ctx, batch.hook.id, batch.deliveries.length);
    try {
      await commitOutcomes(this.#ctx, batch.id, batch.hook.id, holding.ends, {
        hook: batch.hook,
        persist: this.#persist,
        release,
      });
    } catch (error) {
      // Given up (Redis away past every retry): the batch stays in the outbox and, no longer
      // renewed, goes back to the queue through a sweeper. Sent again, never lost.
      this.#ctx.logger.error(
        { err: error, hookId: batch.hook.id, batchId: batch.id },
        "could not write a batch's outcomes; it will be sent again",
      );
    } finally {
      this.#held.delete(batch.id);
      if (this.#held.size === 0) this.#drained?.();
    }
  }

  readonly #persist: Persist;
}

/**
 * A batch of `size` deliveries of the hook leaves this worker (see HookLimits.leaving): what it
 * gives back of the hook's slots, leaving those its requests in flight use; the hook's gate
 * narrows to what is left at once, so that no request starts on a slot given back.
 */
export function leaveHook(ctx: WorkerContext, hookId: string, size: number): Release {
  const release = ctx.limits.leaving(hookId, size, ctx.gates.inFlight(hookId));
  if (release.slots > 0) ctx.gates.resize(hookId, Math.max(1, ctx.limits.width(hookId)));
  return release;
}

/** Whether `work` settled within `ms` (a stopping worker's grace). */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), ms);
  });
  try {
    return (await Promise.race([work.then(() => "settled"), expired])) === "settled";
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Until when a hook's circuit makes its jobs wait in the queue, without starting a probe (the
 * job's check); undefined when they may come in. While this worker's probe of the hook is in
 * flight they come in and wait for its verdict here, rather than for the next probe.
 */
export function circuitWait(
  ctx: WorkerContext,
  dispatcher: Dispatcher,
  hookId: string,
  now: number,
): number | undefined {
  if (dispatcher.probing(hookId)) return undefined;
  const admission = ctx.health.admit(hookId, now);
  return admission.kind === "wait" ? admission.until : undefined;
}
