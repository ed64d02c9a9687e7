import type { Queue } from "bullmq";

const REFRESH_MS = 1_000;

/**
 * The delivery queues' backlog (waiting + delayed, every partition's), read at most once a second:
 * back-pressure must not add a Redis round trip to every request.
 */
export class QueueDepth {
  #depth = 0;
  #readAt = 0;
  #reading: Promise<number> | undefined;

  constructor(private readonly queues: readonly Queue[]) {}

  async current(): Promise<number> {
    if (Date.now() - this.#readAt < REFRESH_MS) return this.#depth;
    this.#reading ??= Promise.all(
      this.queues.map((queue) => queue.getJobCounts("waiting", "delayed", "prioritized")),
    )
      .then((all) => {
        this.#depth = all.reduce(
          (sum, counts) => sum + (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
          0,
        );
        this.#readAt = Date.now();
        return this.#depth;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async isOver(limit: number): Promise<boolean> {
    return (await this.current()) >= limit;
  }
}
