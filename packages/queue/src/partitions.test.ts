import calculateSlot from "cluster-key-slot";
import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { clusterPrefix } from "./names";
import {
  hookIdOfDelivery,
  Partitions,
  partitionIndexOf,
  partitionPrefix,
  settlePartitionCount,
} from "./partitions";

const redis = testRedis();
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** A prefix of its own for each test, dropped after. */
function fresh(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

describe("partition prefixes", () => {
  test("partition 0 is the installation's prefix, so one partition is the layout as it always was", () => {
    expect(partitionPrefix("hookwire", 0)).toBe("hookwire");
    expect(partitionPrefix("{hookwire}", 0)).toBe("{hookwire}");
    expect(new Partitions("hookwire").all.map((p) => p.prefix)).toEqual(["hookwire"]);
  });

  test("on a single Redis the other partitions nest under the prefix, so one SCAN of it finds them", () => {
    expect(partitionPrefix("hookwire", 3)).toBe("hookwire:p3");
  });

  test("on a cluster each partition has a hash tag of its own, so its keys land in a slot of its own", () => {
    const partitions = new Partitions(clusterPrefix("hookwire"), 4);
    expect(partitions.all.map((p) => p.prefix)).toEqual([
      "{hookwire}",
      "{hookwire:p1}",
      "{hookwire:p2}",
      "{hookwire:p3}",
    ]);
    const slots = partitions.all.map((p) => calculateSlot(p.keys.outbox));
    expect(new Set(slots).size).toBe(4);
    // Every key of one partition is in its slot: a MULTI over them is never CROSSSLOT.
    for (const [i, p] of partitions.all.entries()) {
      for (const key of [
        p.keys.outbox,
        p.keys.delivery("hk.e"),
        p.keys.hookLeases("hk"),
        p.keys.statsMinute(1),
      ])
        expect(calculateSlot(key)).toBe(slots[i]);
    }
  });

  test("a prefix's own tag is kept, with the partition inside it", () => {
    expect(partitionPrefix("app{hw}x", 2)).toBe("app{hw:p2}x");
  });

  test("counts outside 1 to 64 are refused", () => {
    expect(() => new Partitions("hookwire", 0)).toThrow(/1 to 64/);
    expect(() => new Partitions("hookwire", 65)).toThrow(/1 to 64/);
  });
});

describe("a hook's partition", () => {
  test("is the same for a hook every time, and hooks spread over every partition", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `hk_${i.toString(36)}`);
    const indexes = ids.map((id) => partitionIndexOf(id, 4));
    expect(ids.map((id) => partitionIndexOf(id, 4))).toEqual(indexes);
    for (let p = 0; p < 4; p++) expect(indexes.filter((i) => i === p).length).toBeGreaterThan(20);
  });

  test("a delivery is in its hook's partition", () => {
    const partitions = new Partitions("hookwire", 8);
    expect(hookIdOfDelivery("hk_abc.entry.with.dots")).toBe("hk_abc");
    expect(partitions.ofDelivery("hk_abc.entry.with.dots")).toBe(partitions.of("hk_abc"));
  });
});

describe("settlePartitionCount", () => {
  const batch = JSON.stringify({ job: "", notBefore: 0, data: { hookId: "hk", deliveries: [] } });

  test("records the count on first start, and accepts the same count again", async () => {
    const prefix = fresh("partitions-first");
    const partitions = new Partitions(prefix, 3);
    await settlePartitionCount(redis, partitions);
    expect(await redis.get(partitions.base.keys.partitions)).toBe("3");
    await expect(settlePartitionCount(redis, new Partitions(prefix, 3))).resolves.toBeUndefined();
  });

  test("refuses another count while a partition of the recorded one holds unsettled batches", async () => {
    const prefix = fresh("partitions-refused");
    await settlePartitionCount(redis, new Partitions(prefix, 4));
    const old = new Partitions(prefix, 4);
    await redis.hset(old.all[3]!.keys.outbox, "b1", batch, "b2", batch);
    await expect(settlePartitionCount(redis, new Partitions(prefix, 2))).rejects.toThrow(
      "HOOKWIRE_QUEUE_PARTITIONS=2, but Redis holds 2 unsettled batches in partition 3 of the 4 it was started with",
    );
    expect(await redis.get(old.base.keys.partitions)).toBe("4");
  });

  test("a Redis from before partitions counts as one: its queued batches refuse a start with more", async () => {
    const prefix = fresh("partitions-legacy");
    await redis.hset(new Partitions(prefix).base.keys.outbox, "b1", batch);
    await expect(settlePartitionCount(redis, new Partitions(prefix, 4))).rejects.toThrow(
      /HOOKWIRE_QUEUE_PARTITIONS=4, but Redis holds 1 unsettled batch in partition 0 of the 1/,
    );
  });

  test("once every batch is settled, the new count is accepted and recorded", async () => {
    const prefix = fresh("partitions-drained");
    await settlePartitionCount(redis, new Partitions(prefix, 4));
    await settlePartitionCount(redis, new Partitions(prefix, 2));
    expect(await redis.get(new Partitions(prefix).base.keys.partitions)).toBe("2");
  });
});
