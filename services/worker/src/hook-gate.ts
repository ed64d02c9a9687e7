/**
 * Per-hook limits inside one worker process: at most `concurrency` requests in flight to a hook,
 * and, when set, at most `ratePerSecond` started each second. A slow hook then holds only its own
 * slots, never the worker's.
 *
 * Within `concurrency`, a hook earns its width (a slow start, as TCP's): it starts with
 * FIRST_WINDOW requests in flight, doubles that with each answer that comes back, and halves it
 * (not below the first) with each attempt that got none (a timeout, a refused connection). A
 * healthy receiver is at full width after a few answers; one that never answers holds two
 * sockets, not ten, so that forty dead hooks open 80 connections at once rather than 400 (each
 * taken at the cost of every other hook's latency) and time out 80 at a time.
 */

/** Requests in flight to a hook before any answer. */
export const FIRST_WINDOW = 2;

/** What came of a task, for the window: an answer, none, or no attempt at all. */
export type Heard = "answered" | "unanswered" | "none";

export class HookGate {
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  #concurrency: number;
  #window = FIRST_WINDOW;
  #ratePerSecond: number | undefined;
  #tokens = 0;
  #refilledAt = 0;

  constructor(concurrency: number, ratePerSecond?: number) {
    this.#concurrency = concurrency;
    this.#ratePerSecond = ratePerSecond;
    this.#tokens = ratePerSecond ?? 0;
  }

  /** Settings may change between jobs (the hook was edited). */
  configure(concurrency: number, ratePerSecond?: number): void {
    this.#concurrency = concurrency;
    if (ratePerSecond !== this.#ratePerSecond) this.#tokens = ratePerSecond ?? 0;
    this.#ratePerSecond = ratePerSecond;
    this.#wakeNext();
  }

  /** Requests that may be in flight now: the concurrency, or less while the hook earns it. */
  get width(): number {
    return Math.min(this.#concurrency, this.#window);
  }

  /** `heard`: what came of the task's attempt, which widens or narrows the hook's window. */
  async run<T>(task: () => Promise<T>, heard: (result: T) => Heard = () => "none"): Promise<T> {
    // A woken waiter inherits the slot of the task that finished, so the count stays exact.
    if (this.#inFlight >= this.width) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inFlight++;
    let result: Heard = "none";
    try {
      await this.#takeToken();
      const value = await task();
      result = heard(value);
      return value;
    } finally {
      if (result === "answered") this.#window = Math.min(this.#concurrency, this.#window * 2);
      else if (result === "unanswered") this.#window = Math.max(FIRST_WINDOW, Math.floor(this.#window / 2));
      const next = this.#inFlight <= this.width ? this.#waiting.shift() : undefined;
      if (next !== undefined) next();
      else this.#inFlight--;
      this.#wakeNext();
    }
  }

  #wakeNext(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.width) {
      this.#inFlight++;
      this.#waiting.shift()?.();
    }
  }

  async #takeToken(): Promise<void> {
    const rate = this.#ratePerSecond;
    if (rate === undefined) return;
    for (;;) {
      const now = Date.now();
      this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) / 1000) * rate);
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      // Rate limiting is a real wait: the next token comes in (1 - tokens) / rate seconds.
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.#tokens) / rate) * 1000)));
    }
  }
}

/** One gate per hook, made on first use. */
export class HookGates {
  readonly #gates = new Map<string, HookGate>();

  constructor(private readonly defaultConcurrency: number) {}

  for(hookId: string, settings: { concurrency?: number; ratePerSecond?: number }): HookGate {
    const concurrency = settings.concurrency ?? this.defaultConcurrency;
    let gate = this.#gates.get(hookId);
    if (gate === undefined) {
      gate = new HookGate(concurrency, settings.ratePerSecond);
      this.#gates.set(hookId, gate);
    } else {
      gate.configure(concurrency, settings.ratePerSecond);
    }
    return gate;
  }
}
