/**
 * A hook's gate inside one worker process: at most `concurrency` requests in flight to the hook
 * (the slots this worker holds of the hook's shared cap; its rate is the shared token bucket's,
 * taken at hand-over: see hook-limits.ts). A slow hook then holds only its own slots, never the
 * worker's.
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

/** A task waiting for a slot, with where its end goes. */
interface Waiting {
  task: () => Promise<unknown>;
  heard: (result: unknown) => Heard;
  ended: (value: unknown) => void;
  failed: (error: unknown) => void;
}

export class HookGate {
  #inFlight = 0;
  readonly #waiting: Waiting[] = [];
  #concurrency: number;
  #window = FIRST_WINDOW;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /** The concurrency may change between batches (slots taken or given back, the hook edited). */
  configure(concurrency: number): void {
    this.#concurrency = concurrency;
    this.#wakeNext();
  }

  /** Requests in flight now (more than `width` for a while after the gate narrowed). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests that may be in flight now: the concurrency, or less while the hook earns it. */
  get width(): number {
    return Math.min(this.#concurrency, this.#window);
  }

  /**
   * Runs `task` once it has a slot; `ended` is told its value, or `failed` what it threw. `heard`:
   * what came of the task's attempt, which widens or narrows the hook's window. No async frame
   * and no promise is held per task: a task beyond the width waits as one entry, started by the
   * task whose slot it inherits (the count stays exact), and is told its end by a call, not a
   * promise's reaction: a batch's deliveries that wait cost that entry each, and their ends no
   * microtask hop.
   */
  submit<T>(
    task: () => Promise<T>,
    heard: (result: T) => Heard,
    ended: (value: T) => void,
    failed: (error: unknown) => void,
  ): void {
    const waiting = { task, heard, ended, failed } as Waiting;
    if (this.#inFlight < this.width) {
      this.#inFlight++;
      this.#start(waiting);
      return;
    }
    this.#waiting.push(waiting);
  }

  /** `submit`, answered by a promise. */
  run<T>(task: () => Promise<T>, heard: (result: T) => Heard = () => "none"): Promise<T> {
    return new Promise<T>((resolve, reject) => this.submit(task, heard, resolve, reject));
  }

  #start({ task, heard, ended, failed }: Waiting): void {
    let pending: Promise<unknown>;
    try {
      pending = task();
    } catch (error) {
      this.#finish("none");
      failed(error);
      return;
    }
    pending.then(
      (value) => {
        let result: Heard;
        try {
          result = heard(value);
        } catch (error) {
          this.#finish("none");
          failed(error);
          return;
        }
        this.#finish(result);
        ended(value);
      },
      (error: unknown) => {
        this.#finish("none");
        failed(error);
      },
    );
  }

  /** A task ended: the window learns what it heard, and its slot goes to the next task waiting. */
  #finish(result: Heard): void {
    if (result === "answered") this.#window = Math.min(this.#concurrency, this.#window * 2);
    else if (result === "unanswered") this.#window = Math.max(FIRST_WINDOW, Math.floor(this.#window / 2));
    const next = this.#inFlight <= this.width ? this.#waiting.shift() : undefined;
    if (next !== undefined) this.#start(next);
    else this.#inFlight--;
    this.#wakeNext();
  }

  #wakeNext(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.width) {
      this.#inFlight++;
      this.#start(this.#waiting.shift() as Waiting);
    }
  }
}

/** One gate per hook, made on first use. */
export class HookGates {
  readonly #gates = new Map<string, HookGate>();

  /** The hook's requests in flight in this worker. */
  inFlight(hookId: string): number {
    return this.#gates.get(hookId)?.inFlight ?? 0;
  }

  /** Sets the concurrency of the hook's gate, when it has one (a narrower one starts nothing new). */
  resize(hookId: string, concurrency: number): void {
    this.#gates.get(hookId)?.configure(concurrency);
  }

  for(hookId: string, concurrency: number): HookGate {
    let gate = this.#gates.get(hookId);
    if (gate === undefined) {
      gate = new HookGate(concurrency);
      this.#gates.set(hookId, gate);
    } else {
      gate.configure(concurrency);
    }
    return gate;
  }
}
