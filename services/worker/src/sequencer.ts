/**
 * The ordered hooks of one partition (`delivery.ordering: "fifo"`), sent one delivery at a time.
 *
 * Their deliveries wait in their hooks' sequences (@hookwire/queue's sequence.ts), not in BullMQ.
 * A sequencer asks every POLL_MS which sequences are due, takes each one's head under the
 * sequence's lock, and sends it; the lock is renewed while the attempt is in flight, and the head
 * leaves the sequence only in the MULTI that commits its outcome (outcomes.ts), so a worker that
 * dies mid-attempt leaves it to be sent again once its lock lapses, and no two workers ever have
 * a head of one hook in flight. After a success the next head follows at once, under a new lock
 * (or after `1 / ratePerSecond`); a retry is due at its time in the retry schedule, in its place.
 *
 * An ordered hook has one delivery in flight, so its circuit does not gate it: the retry
 * schedule spaces the head's attempts, and the circuit is told of each (health, events) as for
 * any hook.
 */
import { randomBytes } from "node:crypto";
import type { Integration } from "@hookwire/manifest";
import type { JobDelivery, Sequences } from "@hookwire/queue";
import type { Hook } from "@hookwire/store";
import { settledWithin } from "./dispatcher";
import {
  attemptDelivery,
  commitOutcomes,
  type DeliveryEnd,
  type Persist,
  patient,
  sendable,
  unsendable,
} from "./outcomes";
import type { WorkerContext } from "./worker-context";

/** How often the due sequences are asked for. */
const POLL_MS = 50;
/** Ordered hooks sent at once by one sequencer. */
const MAX_RUNNING = 64;
/** How long runs cut short by the abort may take to commit their heads. */
const AFTER_ABORT_MS = 1_000;

export class Sequencer {
  readonly #ctx: WorkerContext;
  readonly #sequences: Sequences;
  readonly #persist: Persist;
  /** Per hook, its run here: claims and sends its heads while they follow at once. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #tokenPrefix: string;
  #claims = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closing = false;

  constructor(ctx: WorkerContext, workerId: string) {
    this.#ctx = ctx;
    this.#sequences = ctx.writer.outbox.sequences;
    this.#persist = patient(ctx);
    this.#tokenPrefix = `${workerId}.${randomBytes(3).toString("hex")}`;
  }

  start(): void {
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
    this.#timer.unref();
  }

  /**
   * Stops: no head is claimed any more, attempts in flight may finish within `graceMs`; then
   * `abort` cuts them short (their heads go back to their sequences, due now, no attempt spent).
   */
  async drain(graceMs: number, abort: () => Promise<void>): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    const runs = Promise.allSettled([...this.#running.values()]);
    if (await settledWithin(runs, graceMs)) return;
    this.#ctx.logger.warn(
      { graceMs, hooks: this.#running.size },
      "ordered deliveries in flight did not finish within the grace period; they go back to their sequences",
    );
    await abort();
    // A run waiting on Redis (away) is not waited for longer: its lock lapses, and the head it
    // may have taken is sent again by the next worker.
    await settledWithin(runs, AFTER_ABORT_MS);
  }

  #poll(): void {
    if (this.#polling || this.#closing || this.#running.size >= MAX_RUNNING) return;
    this.#polling = true;
    this.#sequences
      .due(this.#ctx.redis, Date.now(), MAX_RUNNING)
      .then((hookIds) => {
        for (const hookId of hookIds) {
          if (this.#running.size >= MAX_RUNNING) break;
          if (this.#running.has(hookId) || this.#closing) continue;
          const run = this.#run(hookId)
            .catch((error: unknown) =>
              // Its lock lapses (or was never taken): the sequence is due again then.
              this.#ctx.logger.error({ err: error, hookId }, "an ordered hook's delivery could not be sent"),
            )
            .finally(() => this.#running.delete(hookId));
          this.#running.set(hookId, run);
        }
      })
      .catch((error: unknown) =>
        this.#ctx.logger.debug({ err: error }, "could not read the ordered hooks that are due"),
      )
      .finally(() => {
        this.#polling = false;
      });
  }

  /** Sends the hook's heads one after another while each succeeds and the next is due at once. */
  async #run(hookId: string): Promise<void> {
    while (!this.#closing) {
      const token = `${this.#tokenPrefix}.${this.#claims++}`;
      const head = await this.#sequences.claim(this.#ctx.redis, hookId, token);
      if (head === undefined) return;
      if (!(await this.#send(hookId, token, head))) return;
    }
  }

  /** One attempt of the head and its commit; true when the next head may follow at once. */
  async #send(hookId: string, token: string, delivery: JobDelivery): Promise<boolean> {
    const ctx = this.#ctx;
    // The hook as it is now, not as cached: a head sent with settings a moment old, or to a hook
    // deleted a moment ago, would go out of its order's rules.
    const stored = await ctx.hooks.current(hookId);
    const found = sendable(stored, stored === undefined ? undefined : ctx.catalog.get(stored.integration));
    const end =
      "reason" in found
        ? unsendable(delivery, found)
        : await this.#attempt(hookId, token, found.hook, found.integration, delivery);
    // The lock lapsed (the attempt was cut short, or this process stalled past its lease):
    // another worker has the head now, and its outcome is that worker's to write.
    if (end === undefined || !(await this.#sequences.renew(ctx.redis, hookId, token).catch(() => true))) {
      ctx.logger.warn(
        { hookId, deliveryId: delivery.id },
        "an ordered hook's lock lapsed during an attempt; its outcome is left to the worker that took it over",
      );
      return false;
    }
    const rate = stored?.delivery.ratePerSecond;
    const now = Date.now();
    const nextAt = rate === undefined ? now : now + Math.ceil(1000 / rate);
    const onExhausted = stored?.delivery.onExhausted ?? "hold";
    await commitOutcomes(ctx, "", hookId, [end], {
      ...(stored === undefined ? {} : { hook: stored }),
      persist: this.#persist,
      head: { token, onExhausted, nextAt },
    });
    // Held just now by a hook deleted while its head was in flight: nothing would let it go.
    if (end.kind === "settled" && end.status === "failed" && onExhausted === "hold") {
      if ((await ctx.hooks.current(hookId)) === undefined) await this.#sequences.letGo(ctx.redis, hookId);
    }
    // Held or skipped, the next claim tells.
    return end.kind === "settled" && end.retryDelayMs === undefined && nextAt <= now;
  }

  /**
   * The attempt, the sequence's lock renewed while it is in flight (every third of the lease).
   * Should a renewal find the lock gone, or none succeed for two thirds of the lease (Redis out
   * of reach from here), the attempt is cut short and undefined answered: no two workers ever
   * have one hook's head in flight.
   */
  async #attempt(
    hookId: string,
    token: string,
    hook: Hook,
    integration: Integration,
    delivery: JobDelivery,
  ): Promise<DeliveryEnd | undefined> {
    const ctx = this.#ctx;
    const { leaseMs } = this.#sequences;
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renewal = setInterval(() => {
      if (Date.now() - renewedAt >= (leaseMs * 2) / 3) lost.abort();
      this.#sequences
        .renew(ctx.redis, hookId, token)
        .then((held) => {
          if (held) renewedAt = Date.now();
          else lost.abort();
        })
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error, hookId }, "could not renew an ordered hook's lock"),
        );
    }, leaseMs / 3);
    try {
      const end = await attemptDelivery(ctx, integration, hook, delivery, lost.signal);
      return lost.signal.aborted ? undefined : end;
    } finally {
      clearInterval(renewal);
    }
  }
}
