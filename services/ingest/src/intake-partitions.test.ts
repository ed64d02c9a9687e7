import { PROJECT_ROOT } from "@hookwire/config";
import type { Entry } from "@hookwire/entries";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import {
  DELIVERY_QUEUE,
  type DeliveryJobData,
  defineScripts,
  Outbox,
  Partitions,
  partitionIndexOf,
} from "@hookwire/queue";
import {
  type DeliveryCommit,
  DeliveryLog,
  DeliveryWriter,
  generateSecretKey,
  HookStore,
  LEASE_SCRIPTS,
  SecretBox,
} from "@hookwire/store";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "../../../test/support/fixtures";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { Intake } from "./intake";

// Intake over three partitions on the real Redis: one hook in each, the real writers, watched
// (and, where a test needs ingest to die at a commit, throwing there as a killed process would).

const redis = testRedis();
const prefix = uniquePrefix("intake-partitions");
const partitions = new Partitions(prefix, 3);
const keys = partitions.base.keys;
const lanes = partitions.all.map((partition) => {
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix: partition.prefix });
  const log = new DeliveryLog(redis, partition.keys, {
    retention: { succeeded: 60_000, failed: 60_000 },
    claims: partitions.base.keys,
  });
  return { partition, queue, log, outbox: new Outbox(partition.keys, queue, 30_000) };
});
const hooks = new HookStore(redis, keys, new SecretBox(generateSecretKey()), { cacheMs: 0 });
/** hookIds[i]: the hook in partition i. */
const hookIds = [0, 1, 2].map((p) => {
  for (let n = 0; ; n++) if (partitionIndexOf(`hk-intake-${n}`, 3) === p) return `hk-intake-${n}`;
});

beforeAll(async () => {
  defineScripts(redis, LEASE_SCRIPTS);
  for (const id of hookIds) {
    await hooks.create(
      { id, integration: "generic-webhook", name: id, formVariables: { url: `http://127.0.0.1:9/${id}` } },
      new Set(),
    );
  }
});
afterAll(async () => {
  for (const lane of lanes) await lane.queue.close();
  for (const { prefix } of partitions.all) await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** Each partition's real writer, telling `seen` of its commits; partition `failing` throws at its first. */
function writers(seen: string[], failing?: number): DeliveryWriter[] {
  return lanes.map(
    ({ partition, log, outbox }) =>
      new (class extends DeliveryWriter {
        override async commit(change: DeliveryCommit, now?: number) {
          const ids = [...new Set((change.batches ?? []).map((b) => b.data.hookId))];
          seen.push(`p${partition.index}: ${ids.join(",")}${change.also ? " + claims" : ""}`);
          if (partition.index === failing) throw new Error("ingest died here");
          return super.commit(change, now);
        }
      })(redis, log, outbox),
  );
}

async function intakeWith(writers: DeliveryWriter[]): Promise<Intake> {
  return new Intake({
    redis,
    keys,
    hooks,
    partitions,
    writers,
    catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, {})),
    idempotencyWindowMs: 60_000,
    claimLeaseMs: 5_000,
  });
}

const entry = (id: string) => entryFixture("flag-toggle", { _id: id }) as unknown as Entry;
/**
 * The record of hook p's delivery of an entry, as its partition lists it (an entry left unclaimed
 * has no claim to find its compact record by id).
 */
const recorded = async (p: number, entryId: string) =>
  (await lanes[p]!.log.list({ hookId: hookIds[p]!, entryId, limit: 1 })).deliveries[0];

describe("Intake over three partitions", () => {
  test("commits each partition's deliveries in a MULTI of its own, with the claims last, in partition 0's", async () => {
    const seen: string[] = [];
    const [result] = await (await intakeWith(writers(seen))).accept([entry("parts-1")]);
    expect(result?.hooks.map((h) => h.outcome)).toEqual(["queued", "queued", "queued"]);
    expect(seen.slice(0, 2).sort()).toEqual([`p1: ${hookIds[1]}`, `p2: ${hookIds[2]}`]);
    expect(seen[2]).toBe(`p0: ${hookIds[0]} + claims`);
    for (const p of [0, 1, 2]) {
      expect(await recorded(p, "parts-1")).toMatchObject({ status: "pending" });
      // Queued in its own partition's outbox and nowhere else.
      const held = await Promise.all(lanes.map((lane) => redis.hkeys(lane.partition.keys.outbox)));
      expect(held.map((ids) => ids.some((id) => id.startsWith(`${hookIds[p]}.`)))).toEqual(
        [0, 1, 2].map((i) => i === p),
      );
    }
    expect(await redis.get(keys.entrySeen("parts-1"))).not.toBeNull();
  });

  test("dying at the claims' commit loses nothing: the other partitions' deliveries stay queued, the entry unclaimed, and the retry is accepted", async () => {
    const dying = await intakeWith(writers([], 0));
    await expect(dying.accept([entry("parts-2")])).rejects.toThrow("ingest died here");
    expect(await recorded(1, "parts-2")).toMatchObject({ status: "pending" });
    expect(await recorded(2, "parts-2")).toMatchObject({ status: "pending" });
    expect(await recorded(0, "parts-2")).toBeUndefined();
    expect(await redis.get(keys.entrySeen("parts-2"))).toBeNull();

    const [retried] = await (await intakeWith(writers([]))).accept([entry("parts-2")]);
    expect(retried?.duplicate).toBe(false);
    expect(await recorded(0, "parts-2")).toMatchObject({ status: "pending" });
    expect(await redis.get(keys.entrySeen("parts-2"))).not.toBeNull();
  });
});
