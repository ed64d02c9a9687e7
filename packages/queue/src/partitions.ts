import calculateSlot from "cluster-key-slot";
import type { Redis } from "ioredis";
import { QueueError } from "./errors";
import { type Keyspace, keyspace } from "./names";

/**
 * Hook partitions (HOOKWIRE_QUEUE_PARTITIONS): each hook belongs to one partition, and a
 * partition holds its hooks' queue (BullMQ's keys), outbox, delivery records and indexes, limits,
 * health and the workers' per-minute stats. On a Redis Cluster each partition's prefix has a
 * hash tag of its own, so partitions spread over the masters while each MULTI and script of a
 * hook stays in one slot.
 *
 * Partition 0 is the installation's own prefix, so one partition is the layout of a single
 * Redis as it always was. The installation's keys that belong to no hook (the hooks, entry
 * claims and traces, idempotency keys, OAuth states, ingest's own stats) stay under partition 0.
 */
export interface Partition {
  index: number;
  prefix: string;
  keys: Keyspace;
}

/** At most this many partitions: each one costs every worker a BullMQ worker and its timers. */
export const MAX_PARTITIONS = 64;

/**
 * Partition `index`'s prefix: the installation's for 0; else `<prefix>:p<index>`, or, when the
 * prefix has a hash tag (always on a cluster), the same prefix with `:p<index>` inside the tag.
 */
export function partitionPrefix(prefix: string, index: number): string {
  if (index === 0) return prefix;
  const tag = /\{([^{}]+)\}/.exec(prefix);
  if (tag === null) return `${prefix}:p${index}`;
  return `${prefix.slice(0, tag.index)}{${tag[1]}:p${index}}${prefix.slice(tag.index + tag[0].length)}`;
}

/** The partition of a hook: CRC16 of its id (the cluster's own slot hash), modulo the count. */
export function partitionIndexOf(hookId: string, count: number): number {
  return count <= 1 ? 0 : calculateSlot(hookId) % count;
}

/** The hook a delivery id (`<hookId>.<entryId>`: hook ids have no dot) belongs to. */
export function hookIdOfDelivery(deliveryId: string): string {
  const dot = deliveryId.indexOf(".");
  return dot < 0 ? deliveryId : deliveryId.slice(0, dot);
}

/** The partitions of an installation. */
export class Partitions {
  readonly all: readonly Partition[];

  constructor(prefix: string, count = 1) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
      throw new QueueError(
        "QUEUE_ERR_BAD_CONFIG",
        `partitions: expected 1 to ${MAX_PARTITIONS}, not ${count}`,
      );
    }
    this.all = Array.from({ length: count }, (_, index) => {
      const partitioned = partitionPrefix(prefix, index);
      return { index, prefix: partitioned, keys: keyspace(partitioned) };
    });
  }

  get count(): number {
    return this.all.length;
  }

  /** Partition 0: the installation's own keys. */
  get base(): Partition {
    return this.all[0] as Partition;
  }

  of(hookId: string): Partition {
    return this.all[partitionIndexOf(hookId, this.all.length)] as Partition;
  }

  ofDelivery(deliveryId: string): Partition {
    return this.of(hookIdOfDelivery(deliveryId));
  }

  /** `items` grouped by their hook's partition, in partition order, only partitions with some. */
  group<T>(items: readonly T[], hookOf: (item: T) => string): { partition: Partition; items: T[] }[] {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const { index } = this.of(hookOf(item));
      const list = groups.get(index) ?? [];
      if (list.length === 0) groups.set(index, list);
      list.push(item);
    }
    return [...groups.keys()]
      .sort((a, b) => a - b)
      .map((index) => ({ partition: this.all[index] as Partition, items: groups.get(index) as T[] }));
  }
}

/**
 * Records the partition count in Redis on first start, and refuses a start with another count
 * while any partition of the recorded count holds batches not yet settled (its outbox): a hook
 * moved to another partition would leave them where no lane of its own looks, and a dropped
 * partition would strand them. With nothing in flight the new count is recorded; README
 * "Partitions" says how to drain before a change. Redis without the record is the layout of
 * one partition (before partitions existed).
 */
export async function settlePartitionCount(redis: Redis, partitions: Partitions): Promise<void> {
  const key = partitions.base.keys.partitions;
  const recorded = Number((await redis.get(key)) ?? 1);
  if (recorded === partitions.count) {
    await redis.set(key, String(partitions.count), "NX");
    return;
  }
  const old = new Partitions(partitions.base.prefix, recorded);
  let unsettled = 0;
  const holding: number[] = [];
  for (const partition of old.all) {
    const n = await redis.hlen(partition.keys.outbox);
    if (n > 0) holding.push(partition.index);
    unsettled += n;
  }
  if (unsettled > 0) {
    throw new QueueError(
      "QUEUE_ERR_BAD_CONFIG",
      `HOOKWIRE_QUEUE_PARTITIONS=${partitions.count}, but Redis holds ${unsettled} unsettled batch${unsettled === 1 ? "" : "es"} in partition${holding.length === 1 ? "" : "s"} ${holding.join(", ")} of the ${recorded} it was started with: start with HOOKWIRE_QUEUE_PARTITIONS=${recorded} and let the workers drain them (stop ingest first), then change it (README: Partitions)`,
    );
  }
  await redis.set(key, String(partitions.count));
}
