/**
 * Per-hook limits inside one worker process: at most `concurrency` requests in flight to a hook,
 * and, when set, at most `ratePerSecond` started each second. A slow hook then holds only its own
 * slots, never the worker's.
 */
export class HookGate {
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  #concurrency: number;
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

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A woken waiter inherits the slot of the task that finished, so the count stays exact.
    if (this.#inFlight >= this.#concurrency)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inFlight++;
    try {
      await this.#takeToken();
      return await task();
    } finally {
      const next = this.#inFlight <= this.#concurrency ? this.#waiting.shift() : undefined;
      if (next !== undefined) next();
      else this.#inFlight--;
    }
  }

  #wakeNext(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.#concurrency) {
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
