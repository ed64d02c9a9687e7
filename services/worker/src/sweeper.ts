/**
 * Every worker renews the leases of the batches it holds (the heartbeat) and sweeps the outbox
 * for batches whose lease ran out with nothing queued behind them: committed by an ingest that
 * died before relaying them, held by a worker that died, or whose BullMQ job was lost or failed
 * for good. Those deliveries are "stuck": counted (metrics, the minute stats that /v1/stats and the
 * dashboard read), logged, and queued again. Several workers may sweep at once: the outbox's sweep
 * takes each batch for one of them (outbox.ts).
 */
import type { Outbox } from "@hookwire/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Dispatcher } from "./dispatcher";
import type { HookLimits } from "./hook-limits";
import type { StatsRecorder } from "./stats-recorder";
import type { DeliveryObserver } from "./worker-context";

export interface SweeperOptions {
  outbox: Outbox;
  /** The hooks' shared limits: this worker's leases on them are renewed with its batches'. */
  limits: HookLimits;
  redis: Redis;
  dispatcher: Dispatcher;
  stats: StatsRecorder;
  observer: DeliveryObserver;
  logger: Logger;
}

/** Passes of one sweep at most (each takes up to 500 batches), so one sweep stays short. */
const MAX_PASSES = 20;
const PASS_SIZE = 500;

export class Sweeper {
  readonly #options: SweeperOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #sweeping: Promise<number> | undefined;

  constructor(options: SweeperOptions) {
    this.#options = options;
  }

  /** Heartbeat and sweep, each every third of the lease; the first sweep at once. */
  start(): void {
    const everyMs = Math.max(200, Math.floor(this.#options.outbox.leaseMs / 3));
    const heartbeat = setInterval(() => void this.heartbeat(), everyMs);
    const sweep = setInterval(() => void this.sweep(), everyMs);
    heartbeat.unref();
    sweep.unref();
    this.#timers.push(heartbeat, sweep);
    void this.sweep();
  }

  /** Stops both timers and waits for a sweep under way. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await this.#sweeping;
  }

  /** Renews the leases of every batch this worker holds, and of its slots of each hook. Never throws. */
  async heartbeat(): Promise<void> {
    const { outbox, limits, redis, dispatcher, logger } = this.#options;
    const now = Date.now();
    const pipeline = redis.pipeline();
    outbox.addRenewal(pipeline, dispatcher.heldIds(), now);
    limits.addRenewals(pipeline, now);
    try {
      const answers = (await pipeline.exec()) ?? [];
      const failed = answers.find(([error]) => error !== null);
      if (failed) throw failed[0];
    } catch (error) {
      logger.warn({ err: error }, "could not renew the leases of the batches and slots held");
    }
  }

  /** One sweep; answers how many stuck deliveries it queued again. Never throws. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<number> {
    const { outbox, redis, dispatcher, stats, observer, logger } = this.#options;
    let stuck = 0;
    try {
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const { examined, requeued } = await outbox.sweep(
          redis,
          (id) => dispatcher.holds(id),
          Date.now(),
          PASS_SIZE,
        );
        const deliveries = requeued.reduce((sum, batch) => sum + batch.data.deliveries.length, 0);
        if (deliveries > 0) {
          stuck += deliveries;
          logger.warn(
            { batches: requeued.length, deliveries, batchIds: requeued.slice(0, 10).map((b) => b.id) },
            "deliveries found with nothing queued behind them; queued again",
          );
          observer.stuck?.(deliveries);
          await stats.recordStuck(redis, deliveries);
        }
        if (examined < PASS_SIZE) break;
      }
    } catch (error) {
      logger.warn({ err: error }, "could not sweep the outbox");
    }
    return stuck;
  }
}
