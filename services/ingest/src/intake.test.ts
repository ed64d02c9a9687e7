import { PROJECT_ROOT } from "@hookwire/config";
import type { Entry } from "@hookwire/entries";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import {
  DELIVERY_QUEUE,
  type DeliveryJobData,
  defineScripts,
  keyspace,
  Outbox,
  Partitions,
} from "@hookwire/queue";
import {
  type DeliveryCommit,
  DeliveryLog,
  DeliveryWriter,
  encodeCircuit,
  generateSecretKey,
  HookStore,
  LEASE_SCRIPTS,
  SecretBox,
  takeLeases,
} from "@hookwire/store";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "../../../test/support/fixtures";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { HookReadiness } from "./hook-readiness";
import { Intake } from "./intake";

// Real Redis under a prefix of this file's own. The writer below is the real one; a test that
// needs ingest to die between two commits has it throw there instead, as a killed process would
// leave things.

const redis = testRedis();
const prefix = uniquePrefix("intake");
const keys = keyspace(prefix);
const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix });
const log = new DeliveryLog(redis, keys, { retention: { succeeded: 60_000, failed: 60_000 } });
const outbox = new Outbox(keys, queue, 30_000);
const real = new DeliveryWriter(redis, log, outbox);
const hooks = new HookStore(redis, keys, new SecretBox(generateSecretKey()), { cacheMs: 0 });
let ready = "";
let unready = "";

beforeAll(async () => {
  defineScripts(redis, LEASE_SCRIPTS);
  for (const name of ["answers", "silent"]) {
    const hook = await hooks.create(
      { integration: "generic-webhook", name, formVariables: { url: `http://127.0.0.1:9/${name}` } },
      new Set(),
    );
    if (name === "answers") ready = hook.id;
    else unready = hook.id;
  }
  // As a worker leaves a hook whose last attempt succeeded a moment ago.
  await redis.hset(
    keys.hookHealth(ready),
    ...encodeCircuit({ state: "closed", consecutiveFailures: 0 }),
    "lastSuccessAt",
    Date.now(),
  );
});
afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** The real writer, telling `seen` of each commit (and of its relay) as they happen. */
function watchedWriter(seen: string[], failAt?: number): DeliveryWriter {
  let commits = 0;
  return new (class extends DeliveryWriter {
    override async commit(change: DeliveryCommit, now?: number) {
      const n = ++commits;
      const hookIds = [...new Set((change.batches ?? []).map((b) => b.data.hookId))].sort();
      seen.push(`commit ${n}: ${hookIds.join(",")}${change.also ? " + claims" : ""}`);
      if (n === failAt) throw new Error("ingest died here");
      const done = await super.commit(change, now);
      void done.relayed.then(() => seen.push(`relayed ${n}`));
      return done;
    }
  })(redis, log, outbox);
}

async function intakeWith(writer: DeliveryWriter): Promise<Intake> {
  const readiness = new HookReadiness(redis, new Partitions(prefix));
  await readiness.refresh([{ id: ready }, { id: unready }]);
  return new Intake({
    redis,
    keys,
    hooks,
    partitions: new Partitions(prefix),
    writers: [writer],
    catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, {})),
    idempotencyWindowMs: 60_000,
    claimLeaseMs: 5_000,
    readiness,
  });
}

const entry = (id: string) => entryFixture("flag-toggle", { _id: id }) as unknown as Entry;

describe("Intake beside hooks that do not answer", () => {
  test("commits and relays the deliveries of hooks that answer first, the others' with the claims after", async () => {
    const seen: string[] = [];
    const intake = await intakeWith(watchedWriter(seen));
    const [result] = await intake.accept([entry("split-1")]);
    expect(result?.hooks.map((h) => h.outcome)).toEqual(["queued", "queued"]);
    expect(seen.slice(0, 3)).toEqual([`commit 1: ${ready}`, "relayed 1", `commit 2: ${unready} + claims`]);
    expect(await redis.get(keys.entrySeen("split-1"))).not.toBeNull();
  });

  test("dying between the two commits loses nothing: the first part stays queued, the entry unclaimed, and the retry is accepted", async () => {
    const seen: string[] = [];
    const dying = await intakeWith(watchedWriter(seen, 2));
    await expect(dying.accept([entry("split-2")])).rejects.toThrow("ingest died here");
    // Listed, not found by id: an entry left unclaimed has no claim to find its record by.
    const listed = async (hookId: string) => (await log.list({ hookId, entryId: "split-2" })).deliveries;
    expect(await listed(ready)).toMatchObject([{ status: "pending" }]);
    expect(await listed(unready)).toEqual([]);
    expect(await redis.get(keys.entrySeen("split-2"))).toBeNull();

    const [retried] = await (await intakeWith(real)).accept([entry("split-2")]);
    expect(retried?.duplicate).toBe(false);
    expect(await log.get(`${unready}.split-2`)).toMatchObject({ status: "pending" });
    expect(await redis.get(keys.entrySeen("split-2"))).not.toBeNull();
  });

  test("with no hook known to answer, one commit holds every delivery and the claims, as before", async () => {
    const seen: string[] = [];
    const intake = new Intake({
      redis,
      keys,
      hooks,
      partitions: new Partitions(prefix),
      writers: [watchedWriter(seen)],
      catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, {})),
      idempotencyWindowMs: 60_000,
      claimLeaseMs: 5_000,
    });
    await intake.accept([entry("split-3")]);
    expect(seen[0]).toBe(`commit 1: ${[ready, unready].sort().join(",")} + claims`);
    expect(seen.filter((line) => line.startsWith("commit"))).toHaveLength(1);
  });
});

describe("Intake of entries leased while they are routed", () => {
  /** The real writer, telling `committed` the entry of each delivery and record it commits. */
  function listingWriter(committed: string[]): DeliveryWriter {
    return new (class extends DeliveryWriter {
      override async commit(change: DeliveryCommit, now?: number) {
        for (const batch of change.batches ?? []) {
          for (const delivery of batch.data.deliveries) committed.push(`delivery ${delivery.entryId}`);
        }
        for (const record of change.accepted ?? []) committed.push(`record ${record.entryId}`);
        return super.commit(change, now);
      }
    })(redis, log, outbox);
  }

  test("a request that repeats an accepted entry beside a new one commits the new one's deliveries only", async () => {
    await (await intakeWith(real)).accept([entry("again-1")]);
    const committed: string[] = [];
    const results = await (await intakeWith(listingWriter(committed))).accept([
      entry("again-1"),
      entry("again-2"),
    ]);
    expect(results.map((r) => [r.id, r.duplicate, r.hooks.length])).toEqual([
      ["again-1", true, 0],
      ["again-2", false, 2],
    ]);
    expect([...new Set(committed)].sort()).toEqual(["delivery again-2", "record again-2"]);
  });

  test("an entry another request is accepting is answered 409, nothing is committed and the other entries are freed", async () => {
    const other = await takeLeases(redis, [keys.entrySeen("busy-1")], 5_000);
    const committed: string[] = [];
    const intake = await intakeWith(listingWriter(committed));
    await expect(intake.accept([entry("busy-2"), entry("busy-1")])).rejects.toMatchObject({
      code: "API_ERR_IN_PROGRESS",
    });
    other.lease.end();
    expect(committed).toEqual([]);
    expect(await redis.get(keys.entrySeen("busy-2"))).toBeNull();
  });
});
