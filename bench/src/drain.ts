import { setTimeout as sleep } from "node:timers/promises";
import { mastersOf, type Partitions } from "@hookwire/queue";
import type { Redis } from "ioredis";
import { postClosed } from "./ingest-client";
import type { Receiver } from "./receiver";
import { median, perSecond } from "./statistics";
import type { SystemUnderTest } from "./system-under-test";
import { entryBatches } from "./workload";

/** Hooks of the drain backlog, all on the receiver's one origin: each entry is 10 deliveries. */
export const DRAIN_HOOKS = 10;
const ENTRIES_PER_REQUEST = 100;
const FILL_CONCURRENCY = 2;

export interface DrainResult {
  dps: number;
  deliveries: number;
  hooks: number;
  runs: number[];
  /**
   * Redis' `used_memory` after the drain (every batch settled) less before the backlog was built,
   * per delivery: what a succeeded delivery keeps in Redis for its retention (its record and
   * index entries, its share of the stats). The median of the runs.
   */
  redisBytesPerDelivery: number;
}

/** `used_memory` of the Redis, summed over the masters on a cluster. */
async function usedMemory(redis: Redis): Promise<number> {
  let sum = 0;
  for (const master of mastersOf(redis)) {
    const info = await master.info("memory");
    sum += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  }
  return sum;
}

/** Waits until every partition's outbox is empty: every batch's outcomes (and records) are written. */
async function settled(redis: Redis, partitions: Partitions, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const held = await Promise.all(partitions.all.map(({ keys }) => redis.hlen(keys.outbox)));
    if (held.every((n) => n === 0)) return;
  }
}

/**
 * Phase 2: the backlog is built through the real ingest while the queue is paused (so the jobs
 * and records are exactly what ingest makes), then the queue is resumed and the running worker
 * drains it: deliveries per second from the resume to the last request at the receiver.
 */
export async function runDrain(
  system: SystemUnderTest,
  receiver: Receiver,
  options: { runs: number; deliveries: number; warmUpDeliveries: number; timeoutMs: number },
): Promise<DrainResult> {
  await system.setHooks(DRAIN_HOOKS, receiver.url);
  const entries = Math.ceil(options.deliveries / DRAIN_HOOKS);
  const deliveries = entries * DRAIN_HOOKS;

  // Warm-up: the worker's JIT, its sockets, the hooks in its cache.
  await receiver.reset();
  const warmEntries = Math.ceil(options.warmUpDeliveries / DRAIN_HOOKS);
  await postClosed(
    system.client,
    entryBatches("drain-warm", warmEntries, ENTRIES_PER_REQUEST).bodies,
    FILL_CONCURRENCY,
  );
  await receiver.waitFor(warmEntries * DRAIN_HOOKS, options.timeoutMs);

  const runs: number[] = [];
  const bytes: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const { bodies } = entryBatches(`drain-${run}`, entries, ENTRIES_PER_REQUEST);
    await receiver.reset();
    await settled(system.redis, system.partitions, options.timeoutMs);
    const before = await usedMemory(system.redis);
    await Promise.all(system.queues.map((queue) => queue.pause()));
    let resumedAt = 0;
    try {
      await postClosed(system.client, bodies, FILL_CONCURRENCY);
      const early = await receiver.counts();
      if (early.count > 0) throw new Error(`${early.count} deliveries arrived while the queue was paused`);
    } finally {
      resumedAt = Date.now();
      await Promise.all(system.queues.map((queue) => queue.resume()));
    }
    const arrival = await receiver.waitFor(deliveries, options.timeoutMs);
    runs.push(perSecond(deliveries, arrival.lastAt - resumedAt));
    await settled(system.redis, system.partitions, options.timeoutMs);
    bytes.push(((await usedMemory(system.redis)) - before) / deliveries);
  }
  return { dps: median(runs), deliveries, hooks: DRAIN_HOOKS, runs, redisBytesPerDelivery: median(bytes) };
}
