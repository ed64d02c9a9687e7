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
 * to the queue as it was). When the last delivery of a
 * batch is done, everything learned is committed in one go (outcomes.ts) and the batch is let go.
 */
import type { Integration } from "@hookwire/manifest";
import { type JobDelivery, transientRedisReply } from "@hookwire/queue";
import type { Hook } from "@hookwire/store";
import type { Heard } from "./hook-gate";
import { attemptDelivery, commitOutcomes, type DeliveryEnd, type Persist } from "./outcomes";
import type { WorkerContext } from "./worker-context";

/** A batch as a job handed it over. */
export interface HeldBatch {
  /** The batch's (and its job's) id in the outbox. */
  id: string;
  hook: Hook;
  integration: Integration;
  deliveries: readonly JobDelivery[];
  captureErrorBody: boolean;
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

/** First wait before a failed commit is tried again, and the longest. */
const PERSIST_MIN_DELAY_MS = 100;
const PERSIST_MAX_DELAY_MS = 5_000;

export class Dispatcher {
  readonly #ctx: WorkerContext;
  readonly #held = new Map<string, Holding>();
  /** Per hook, the probe in flight: deliveries behind an open circuit wait for its verdict. */
  readonly #probes = new Map<string, Promise<void>>();
  /** Per hook, jobs waiting in a slot for room in this worker (busy hooks only, see `room`). */
  readonly #roomWaiters = new Map<string, Set<() => void>>();
  /** Per hook, when its open circuit lets a probe out: deliveries behind it wait for that. */
  readonly #circuitWaits = new Map<string, { until: number; done: Promise<void>; wake: () => void }>();
  #waitingJobs = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
  }

  /** Ids of the batches held now (the heartbeat renews their leases). */
  heldIds(): string[] {
    return [...this.#held.keys()];
  }

  holds(id: string): boolean {
    return this.#held.has(id);
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
    const gate = this.#ctx.gates.for(hookId, Math.max(1, this.#ctx.limits.slots(hookId)));
    batch.deliveries.forEach((delivery, i) => {
      if (i >= sendable) {
        this.#ended(holding, { kind: "deferred", delivery, notBefore });
        return;
      }
      gate
        .run(() => this.#attemptOrDefer(batch, delivery), heardOf)
        .then(
          (end) => this.#ended(holding, end),
          (error: unknown) => {
            // attemptDelivery never throws; should anything else, the delivery goes back as it was.
            this.#ctx.logger.error(
              { err: error, deliveryId: delivery.id },
              "delivery could not be attempted",
            );
            this.#ended(holding, { kind: "deferred", delivery, notBefore: 0 });
          },
        );
    });
  }

  /**
   * Whether a job of a busy (not stalled) hook may wait in its slot for room: while most slots
   * are free to hand other hooks' jobs over, yes; else it goes back to the queue.
   */
  canWait(): boolean {
    const reserve = Math.max(1, Math.floor(this.#ctx.settings.concurrency / 4));
    return !this.#closing && this.#waitingJobs < this.#ctx.settings.concurrency - reserve;
  }

  /** Resolves when one of the hook's deliveries here is done, or after `maxWaitMs`. */
  async room(hookId: string, maxWaitMs: number): Promise<void> {
    this.#waitingJobs++;
    let waiters = this.#roomWaiters.get(hookId);
    if (waiters === undefined) {
      waiters = new Set();
      this.#roomWaiters.set(hookId, waiters);
    }
    const set = waiters;
    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
        set.add(wake);
        timer = setTimeout(resolve, maxWaitMs);
      });
    } finally {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0) this.#roomWaiters.delete(hookId);
      this.#waitingJobs--;
    }
  }

  /**
   * Stops: jobs waiting for room give up, deliveries not started are deferred, and attempts in
   * flight may finish within `graceMs`; then `abort` (the sender's destroy) cuts them short and
   * they are deferred too. Resolves once every batch is committed (or given up on).
   */
  async drain(graceMs: number, abort: () => Promise<void>): Promise<void> {
    this.#closing = true;
    for (const waiters of this.#roomWaiters.values()) for (const wake of waiters) wake();
    for (const wait of this.#circuitWaits.values()) wait.wake();
    if (this.#held.size === 0) return;
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), graceMs);
    });
    if ((await Promise.race([drained, expired])) === "expired") {
      this.#ctx.logger.warn(
        { graceMs, batches: this.#held.size },
        "in-flight deliveries did not finish within the grace period; they go back to the queue",
      );
      await abort();
      await drained;
    }
    clearTimeout(timer);
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
    return attemptDelivery(this.#ctx, batch.integration, batch.hook, delivery, batch.captureErrorBody);
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
      return await attemptDelivery(
        this.#ctx,
        batch.integration,
        batch.hook,
        delivery,
        batch.captureErrorBody,
      );
    } finally {
      this.#probes.delete(hookId);
      verdict();
    }
  }

  #ended(holding: Holding, end: DeliveryEnd): void {
    const hookId = holding.batch.hook.id;
    holding.ends.push(end);
    this.#ctx.backlogs.done(hookId, end.kind === "settled" ? end.durationMs : undefined, Date.now());
    // One delivery's room: the job waiting longest takes it (waking them all, each to find no
    // room but one, cost a drain with a hundred jobs waiting a hundred wake-ups a delivery).
    const waiters = this.#roomWaiters.get(hookId);
    if (waiters !== undefined) {
      const [first] = waiters;
      if (first !== undefined) {
        waiters.delete(first);
        first();
      }
    }
    if (--holding.open > 0) return;
    void this.#commit(holding);
  }

  async #commit(holding: Holding): Promise<void> {
    const { batch } = holding;
    // Booked now, once: the commit may be tried several times.
    const release = this.#ctx.limits.leaving(batch.hook.id, batch.deliveries.length);
    try {
      await commitOutcomes(
        this.#ctx,
        batch.id,
        batch.hook.id,
        holding.ends,
        batch.hook,
        this.#persist,
        release,
      );
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

  /** Tries a Redis step until it lands: backing off, for at most two leases (or the grace). */
  readonly #persist: Persist = async (step) => {
    const deadline = Date.now() + 2 * this.#ctx.writer.outbox.leaseMs;
    for (let delay = PERSIST_MIN_DELAY_MS; ; delay = Math.min(PERSIST_MAX_DELAY_MS, delay * 2)) {
      try {
        return await step();
      } catch (error) {
        if (!passing(error) || Date.now() + delay > deadline) throw error;
        this.#ctx.logger.warn({ err: error, retryInMs: delay }, "a write to Redis failed; trying again");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}

/** Whether a failed Redis step may pass by itself: any connection failure, or a "not now" reply. */
function passing(error: unknown): boolean {
  return transientRedisReply(error) ?? true;
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
