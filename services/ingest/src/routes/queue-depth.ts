import type { Sequences } from "@hookwire/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

const REFRESH_MS = 1_000;

/** A partition's part of the backlog: its BullMQ queue, and its ordered hooks' sequences. */
export interface DepthSource {
  queue: Queue;
  sequences: Sequences;
}

/**
 * The delivery backlog, read at most once a second (back-pressure must not add a Redis round trip
 * to every request): every partition's waiting, delayed and prioritized jobs, and the deliveries
 * waiting in ordered hooks' sequences (`orderedHooks`, each with the index of its partition's
 * source), which are in no job: a held ordered hook's backlog grows there. One pipeline per
 * partition: a cluster keeps each in one slot.
 */
export class QueueDepth {
  #depth = 0;
  #readAt = 0;
  #reading: Promise<number> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly sources: readonly DepthSource[],
    private readonly orderedHooks: () => Promise<{ hookId: string; source: number }[]>,
  ) {}

  async current(): Promise<number> {
    if (Date.now() - this.#readAt < REFRESH_MS) return this.#depth;
    this.#reading ??= this.#read()
      .then((depth) => {
        this.#depth = depth;
        this.#readAt = Date.now();
        return depth;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async isOver(limit: number): Promise<boolean> {
    return (await this.current()) >= limit;
  }

  async #read(): Promise<number> {
    const ordered = await this.orderedHooks();
    const [jobs, sequenced] = await Promise.all([
      Promise.all(this.sources.map(({ queue }) => queue.getJobCounts("waiting", "delayed", "prioritized"))),
      Promise.all(
        this.sources.map(async ({ sequences }, i) => {
          const hooks = ordered.filter(({ source }) => source === i);
          if (hooks.length === 0) return 0;
          const pipeline = this.redis.pipeline();
          for (const { hookId } of hooks) sequences.addLength(pipeline, hookId);
          let waiting = 0;
          for (const [error, length] of (await pipeline.exec()) ?? []) {
            if (error) throw error;
            waiting += Number(length);
          }
          return waiting;
        }),
      ),
    ]);
    const queued = jobs.reduce(
      (sum, counts) => sum + (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      0,
    );
    return queued + sequenced.reduce((sum, waiting) => sum + waiting, 0);
  }
}
