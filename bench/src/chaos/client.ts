import { Pool } from "undici";

/**
 * A client of the ingest API that behaves like a real producer under faults: a request that
 * fails (network error, timeout, 409, 429, 5xx) is sent again, with the same body (the same
 * entry ids) and the same `Idempotency-Key`, after the server's Retry-After or a backoff of
 * 200 ms doubling to 2 s, until it is answered 202 or `giveUpMs` has passed since its first try.
 */

/** One request's worth of entries, posted as one body under one Idempotency-Key. */
export interface Batch {
  key: string;
  body: string;
  entryIds: readonly string[];
}

export interface BatchOutcome {
  batch: Batch;
  /** Answered 202 (entries reported `duplicate` included: ingest answered for them). */
  accepted: boolean;
  tries: number;
  /** The status or error of the last try, for the report when it was not accepted. */
  last: string;
  /** Date.now() of the first try and of the final answer. */
  firstSentAt: number;
  answeredAt: number;
}

export interface RetryPolicy {
  /** A batch not answered 202 this long after its first try is given up (and reported). */
  giveUpMs: number;
  /** One try waits this long for the status line before it counts as a network error. */
  requestTimeoutMs: number;
}

const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 2_000;
/** A Retry-After longer than this is taken as this (the client must keep trying in a bounded run). */
const RETRY_AFTER_CAP_MS = 10_000;
/** Tries per batch at most, whatever the clock says. */
const MAX_TRIES = 1_000;

/** The wait before try `tries + 1`: the server's Retry-After when it gave one, else the backoff. */
export function retryDelayMs(tries: number, retryAfter: string | undefined, now = Date.now()): number {
  if (retryAfter !== undefined && retryAfter !== "") {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, ms));
  }
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, tries - 1));
}

/** Statuses a producer sends again: a conflict (the same key still running), rate limits, 5xx. */
function retryable(status: number): boolean {
  return status === 409 || status === 429 || status >= 500;
}

export class RetryingClient {
  readonly #pool: Pool;
  readonly #authorization: string;
  readonly #policy: RetryPolicy;
  readonly #unanswered = new Set<Batch>();
  readonly #sendWaiters = new Set<() => void>();

  constructor(baseUrl: string, apiKey: string, policy: RetryPolicy) {
    this.#pool = new Pool(baseUrl, { connections: 8, pipelining: 1, keepAliveTimeout: 30e3 });
    this.#authorization = `Bearer ${apiKey}`;
    this.#policy = policy;
  }

  /** Batches sent at least once and neither answered 202 nor given up yet. */
  unanswered(): Batch[] {
    return [...this.#unanswered];
  }

  /** Resolves true when the next try of any batch is handed to the connection, false after `timeoutMs`. */
  nextSend(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (sent: boolean) => {
        clearTimeout(timer);
        this.#sendWaiters.delete(onSend);
        resolve(sent);
      };
      const onSend = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#sendWaiters.add(onSend);
    });
  }

  async post(batch: Batch): Promise<BatchOutcome> {
    const firstSentAt = Date.now();
    this.#unanswered.add(batch);
    let tries = 0;
    let last = "";
    try {
      while (tries < MAX_TRIES) {
        tries++;
        const answer = await this.#try(batch);
        last = answer.last;
        if (answer.status === 202)
          return { batch, accepted: true, tries, last, firstSentAt, answeredAt: Date.now() };
        if (answer.status !== undefined && !retryable(answer.status)) break;
        const delay = retryDelayMs(tries, answer.retryAfter);
        if (Date.now() + delay - firstSentAt > this.#policy.giveUpMs) break;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      return { batch, accepted: false, tries, last, firstSentAt, answeredAt: Date.now() };
    } finally {
      this.#unanswered.delete(batch);
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #try(batch: Batch): Promise<{ status?: number; retryAfter?: string; last: string }> {
    for (const waiter of [...this.#sendWaiters]) waiter();
    try {
      const response = await this.#pool.request({
        method: "POST",
        path: "/v1/entries",
        headers: {
          authorization: this.#authorization,
          "content-type": "application/json",
          "idempotency-key": batch.key,
        },
        body: batch.body,
        headersTimeout: this.#policy.requestTimeoutMs,
        bodyTimeout: this.#policy.requestTimeoutMs,
      });
      const text = await response.body.text().catch(() => "");
      const header = response.headers["retry-after"];
      const retryAfter = Array.isArray(header) ? header[0] : header;
      return {
        status: response.statusCode,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
        last: response.statusCode === 202 ? "202" : `${response.statusCode} ${text.slice(0, 200)}`,
      };
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      return { last: `${code ?? "error"}: ${message ?? String(error)}` };
    }
  }
}

/**
 * Posts every batch, each started at least `intervalMs` after the one before and only while
 * fewer than `concurrency` are unanswered, each to its end (202 or given up). After a stall (a
 * fault) the flow goes on at the same pace instead of catching up in a burst, so that later
 * faults still cut into it. `onOutcome` sees each batch as it ends.
 */
export async function postPaced(
  client: RetryingClient,
  batches: readonly Batch[],
  options: { intervalMs: number; concurrency: number; onOutcome?: (outcome: BatchOutcome) => void },
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = [];
  let next = 0;
  let nextStart = Date.now();
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const start = Math.max(nextStart, Date.now());
      nextStart = start + options.intervalMs;
      const wait = start - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const outcome = await client.post(batch);
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, lane));
  return outcomes;
}
