/**
 * How much of this worker process each hook holds: the deliveries of its jobs not yet attempted
 * or still in flight, how long its attempts take, and when one last finished.
 *
 * A job's deliveries wait for their hook's gate in the worker's memory, not in a job slot (see
 * dispatcher.ts); still, a receiver that never answers holds its gate for the whole attempt
 * timeout, and without a limit its jobs would pile up in memory. So past a small floor a job is
 * admitted only while its hook's backlog would be worked off within `horizonMs` at the pace its
 * attempts go (a hook that has not finished one for a while is taken to be at least that slow);
 * otherwise its batch is parked in the worker until the hook has room (a busy hook), or its job
 * goes back to the queue, delayed (a stalled one); either way the slot serves another hook.
 *
 * The delay: half the expected wait when the pace is measured, so that the hook's gate never runs
 * dry while its next job sits in the queue; when it is not (nothing finished yet, or nothing for
 * `maxWaitMs`: a cold start, a GC pause, or a dead receiver), a backoff that doubles with each
 * time the job was sent back and is at least half the stall, so that a false alarm costs a
 * fraction of a second and a dead receiver's jobs come back ever more rarely (each return
 * fetches the whole job again).
 */
export interface BacklogOptions {
  /** A hook may always hold this many gate widths of deliveries (default 5: a full gate and more). */
  gateWidths?: number;
  /**
   * A stalled hook (its receiver not answering) may hold this many gate widths (default 50), while
   * this worker holds fewer than `maxHeld` deliveries in all: waiting here costs memory only, and
   * sending its jobs back and forth would cost every other hook Redis round trips. Its circuit
   * soon opens and sends them back to the queue, due at the next probe.
   */
  stalledGateWidths?: number;
  /** Deliveries this worker holds in all past which a stalled hook's jobs go back (default 20 000). */
  maxHeld?: number;
  /**
   * Past the floor, a job is admitted only when its hook's backlog clears within this (default
   * 250 ms). Short, so that a worker holds little more than its gates can send soon: every
   * delivery held costs a hold, a decode and, later, a commit on the event loop the in-flight
   * requests share, and pulling seconds of one hook's work in at once made each of its attempts
   * wait behind that work (e2e with one hook ran at 0.4 of the previous main with 2 s).
   */
  horizonMs?: number;
  /** A hook with no attempt finished for this long is taken to be stalled (default 2 s). */
  maxWaitMs?: number;
  /** First backoff, and the least delay (default 200 ms). */
  minDelayMs?: number;
  /** The longest delay (default 30 s). */
  maxDelayMs?: number;
}

/**
 * Not admitted: `stalled` when the hook's pace is unknown or it has made no progress for a while
 * (its job goes back to the queue), else the hook is only busy (its batch may wait in the worker
 * for room, see Dispatcher.park).
 */
export type BacklogVerdict = { admit: true } | { admit: false; delayMs: number; stalled: boolean };

interface Backlog {
  /** Deliveries of the hook's running jobs not finished yet. */
  deliveries: number;
  /** Mean attempt duration (exponentially weighted); undefined until one finished. */
  meanAttemptMs: number | undefined;
  /** When an attempt last finished, or the backlog last went from empty to not. */
  progressAt: number;
}

/**
 * Weight of the newest attempt in the mean: the last few count, so that a hook's slow first
 * attempts (connections being opened) are forgotten within a few more.
 */
const MEAN_WEIGHT = 0.3;

export class HookBacklogs {
  readonly #hooks = new Map<string, Backlog>();
  readonly #gateWidths: number;
  readonly #maxWaitMs: number;
  readonly #horizonMs: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #stalledGateWidths: number;
  readonly #maxHeld: number;
  #held = 0;

  constructor(options: BacklogOptions = {}) {
    this.#gateWidths = options.gateWidths ?? 5;
    this.#stalledGateWidths = options.stalledGateWidths ?? 50;
    this.#maxHeld = options.maxHeld ?? 20_000;
    this.#maxWaitMs = options.maxWaitMs ?? 2_000;
    this.#horizonMs = options.horizonMs ?? 250;
    this.#minDelayMs = options.minDelayMs ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  /**
   * Whether a job of `size` deliveries may run now for a hook whose gate lets `concurrency`
   * through at once and, when set, `ratePerSecond` a second. `sentBack`: how often this job was
   * sent back already. `elsewhere`: the hook's deliveries other workers hold (their share of the
   * same gate).
   */
  admit(
    hookId: string,
    size: number,
    gate: { concurrency: number; ratePerSecond?: number | undefined },
    now: number,
    sentBack = 0,
    elsewhere = 0,
  ): BacklogVerdict {
    const { concurrency, ratePerSecond } = gate;
    const backlog = this.#hooks.get(hookId);
    if (backlog === undefined || backlog.deliveries === 0) return { admit: true };
    const after = backlog.deliveries + elsewhere + size;
    if (after <= this.#gateWidths * concurrency) return { admit: true };
    const stalledMs = now - backlog.progressAt;
    const perAttemptMs = Math.max(backlog.meanAttemptMs ?? 0, stalledMs);
    const waitMs = Math.max(
      (after / concurrency) * perAttemptMs,
      ratePerSecond === undefined ? 0 : (after * 1000) / ratePerSecond,
    );
    if (waitMs <= this.#horizonMs) return { admit: true };
    const measured = backlog.meanAttemptMs !== undefined && stalledMs <= this.#maxWaitMs;
    if (!measured && after <= this.#stalledGateWidths * concurrency && this.#held + size <= this.#maxHeld)
      return { admit: true };
    const delayMs = measured
      ? waitMs / 2
      : Math.max(this.#minDelayMs * 2 ** Math.min(sentBack, 16), stalledMs / 2);
    return {
      admit: false,
      delayMs: Math.round(Math.min(this.#maxDelayMs, Math.max(this.#minDelayMs, delayMs))),
      stalled: !measured,
    };
  }

  /** A job of `size` deliveries of the hook starts. */
  enter(hookId: string, size: number, now: number): void {
    let backlog = this.#hooks.get(hookId);
    if (backlog === undefined) {
      backlog = { deliveries: 0, meanAttemptMs: undefined, progressAt: now };
      this.#hooks.set(hookId, backlog);
    }
    if (backlog.deliveries === 0) backlog.progressAt = now;
    backlog.deliveries += size;
    this.#held += size;
  }

  /** One delivery of the hook is done; `attemptMs` when an attempt was made. */
  done(hookId: string, attemptMs: number | undefined, now: number): void {
    const backlog = this.#hooks.get(hookId);
    if (backlog === undefined) return;
    if (backlog.deliveries > 0) this.#held--;
    backlog.deliveries = Math.max(0, backlog.deliveries - 1);
    if (attemptMs === undefined) return;
    backlog.progressAt = now;
    backlog.meanAttemptMs =
      backlog.meanAttemptMs === undefined
        ? attemptMs
        : backlog.meanAttemptMs + MEAN_WEIGHT * (attemptMs - backlog.meanAttemptMs);
  }

  /** Deliveries of a job that ended without being done one by one (an error, a probe's rest). */
  leave(hookId: string, count: number): void {
    const backlog = this.#hooks.get(hookId);
    if (backlog === undefined) return;
    const left = Math.min(count, backlog.deliveries);
    this.#held -= left;
    backlog.deliveries -= left;
  }

  /** The hook's deliveries held in this worker (for tests). */
  held(hookId: string): number {
    return this.#hooks.get(hookId)?.deliveries ?? 0;
  }
}
