import { createLogger, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import { connectRedis, DELIVERY_QUEUE, Partitions, partitionIndexOf } from "@hookwire/queue";
import { DeliveryLog } from "@hookwire/store";
import { type DeliveryWorker, startDeliveryWorker } from "@hookwire/worker";
import { Queue } from "bullmq";
import calculateSlot from "cluster-key-slot";
import type { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type OwnCluster, ownCluster } from "../bench/src/redis-cluster";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// HOOKWIRE_QUEUE_PARTITIONS on a real Redis Cluster of three masters: each partition's keys under
// a hash tag of its own, spread over the masters, a hook's deliveries in its partition, and
// everything that reads them (listings, stats, the queue view) adding the partitions up. The
// system's own worker consumes partitions 1 and 2 only (HOOKWIRE_WORKER_PARTITIONS); a second
// worker takes partition 0 later. The prefix is fixed, so that where its tags land is too.
const PARTITIONS = 3;

/** The first `hk-part-<n>` that falls in each partition. */
const hookIds = Array.from({ length: PARTITIONS }, (_, p) => {
  for (let n = 0; ; n++) if (partitionIndexOf(`hk-part-${n}`, PARTITIONS) === p) return `hk-part-${n}`;
});

describe("hook partitions on a Redis Cluster", () => {
  let cluster: OwnCluster;
  let receiver: Receiver;
  let system: System;
  let partitions: Partitions;
  let second: { worker: DeliveryWorker; redis: Redis } | undefined;
  const entry = entryFixture("flag-toggle", { _id: "e2e-partitioned-0001" });
  const arrivedAt = (hookId: string) =>
    receiver.requests.filter((r) => r.url === `/${hookId}` && JSON.parse(r.body)._id === entry._id);

  beforeAll(async () => {
    cluster = await ownCluster(3);
    receiver = await startReceiver();
    system = await startSystem({
      label: "partitions",
      env: {
        ...cluster.env,
        HOOKWIRE_QUEUE_PREFIX: "hwtest-partitions",
        HOOKWIRE_QUEUE_PARTITIONS: String(PARTITIONS),
        HOOKWIRE_WORKER_PARTITIONS: "1-2",
      },
    });
    partitions = new Partitions(system.config.queuePrefix, PARTITIONS);
    for (const id of hookIds) {
      const created = await system.api("POST", "/v1/hooks", {
        id,
        integration: "generic-webhook",
        name: id,
        formVariables: { url: `${receiver.url}/${id}` },
      });
      expect(created.status).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await second?.worker.close(500);
    second?.redis.disconnect();
    await system?.close();
    await receiver?.close();
    await cluster?.stop();
  });

  test("each partition has a hash tag of its own, and the partitions' slots lie on more than one master", () => {
    const slots = partitions.all.map((p) => calculateSlot(p.keys.outbox));
    expect(new Set(slots).size).toBe(PARTITIONS);
    const masters = slots.map((slot) => (system.redis as unknown as Cluster).slots[slot]?.[0]);
    expect(masters.every((master) => master !== undefined)).toBe(true);
    expect(new Set(masters).size).toBeGreaterThan(1);
  });

  test("an entry for three hooks is accepted with no CROSSSLOT, and each delivery is recorded in its hook's partition", async () => {
    const posted = await system.api("POST", "/v1/entries", entry);
    expect(posted.status, JSON.stringify(posted.json)).toBe(202);
    expect(posted.json.entries[0].hooks.map((h: { outcome: string }) => h.outcome)).toEqual([
      "queued",
      "queued",
      "queued",
    ]);
    const logs = partitions.all.map(
      (partition) => new DeliveryLog(system.redis, partition.keys, { claims: partitions.base.keys }),
    );
    for (const [p, hookId] of hookIds.entries()) {
      const id = `${hookId}.${entry._id}`;
      expect(await logs[p]!.get(id)).toMatchObject({ id, hookId });
      for (let other = 0; other < PARTITIONS; other++)
        if (other !== p) expect(await logs[other]!.get(id)).toBeUndefined();
    }
  });

  test("a worker consumes only the partitions HOOKWIRE_WORKER_PARTITIONS names", async () => {
    expect(system.worker?.lanes.map((lane) => lane.partition.index)).toEqual([1, 2]);
    await receiver.waitFor(() => arrivedAt(hookIds[1]!).length === 1 && arrivedAt(hookIds[2]!).length === 1);
    // Partition 0's job waits: no lane of this worker reads its queue.
    const queue0 = new Queue(DELIVERY_QUEUE, { connection: system.redis, prefix: partitions.base.prefix });
    try {
      expect((await queue0.getJobCounts("waiting")).waiting).toBe(1);
    } finally {
      await queue0.close();
    }
    expect(arrivedAt(hookIds[0]!)).toHaveLength(0);

    const config = loadConfig({ ...system.env, HOOKWIRE_WORKER_PARTITIONS: "0" });
    const redis = connectRedis(config.redis, "worker", "hookwire-test-worker-p0");
    const worker = startDeliveryWorker({
      config,
      redis,
      catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, system.env)),
      logger: createLogger({ level: "silent", service: "test" }),
      defaultMetrics: false,
    });
    second = { worker, redis };
    await receiver.waitFor(() => arrivedAt(hookIds[0]!).length === 1);
  });

  test("the deliveries listing pages over every partition, and the stats add them up", async () => {
    await eventually(
      async () => {
        const stats = (await system.api("GET", "/v1/stats")).json;
        return stats?.totals?.deliveries?.succeeded === PARTITIONS;
      },
      10_000,
      "three deliveries counted as succeeded",
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await system.api("GET", `/v1/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.deliveries.map((d: { id: string; status: string }) => `${d.id} ${d.status}`));
      cursor = page.json.nextCursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual(hookIds.map((id) => `${id}.${entry._id} succeeded`).sort());

    const traced = await system.api("GET", `/v1/entries/${entry._id}`);
    expect(traced.status).toBe(200);
    expect(traced.json.hooks.map((h: { status?: string }) => h.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
  });

  test("an ordered hook outside partition 0 delivers in its entries' order, holds and goes on, with no CROSSSLOT", async () => {
    let healed = false;
    const ordered = await startReceiver((request, response) => {
      const refused = !healed && JSON.parse(request.body)._id === "e2e-ordered-2";
      response.writeHead(refused ? 500 : 200).end();
    });
    try {
      let n = 0;
      while (partitionIndexOf(`hk-ordered-${n}`, PARTITIONS) !== 2) n++;
      const hookId = `hk-ordered-${n}`;
      const created = await system.api("POST", "/v1/hooks", {
        id: hookId,
        integration: "generic-webhook",
        name: hookId,
        formVariables: { url: ordered.url },
        delivery: { ordering: "fifo", retrySchedule: [0.05] },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const entries = [0, 1, 2, 3].map((i) =>
        entryFixture("flag-toggle", {
          _id: `e2e-ordered-${i}`,
          timestamp: { milliseconds: 1_764_115_200_000 + i, seconds: 1_764_115_200, rfc3339: "", simple: "" },
        }),
      );
      expect((await system.api("POST", "/v1/entries", [...entries].reverse())).status).toBe(202);
      await eventually(
        async () => (await system.api("GET", `/v1/hooks/${hookId}/ordering`)).json?.held !== null,
        20_000,
        "the ordered hook held",
      );
      healed = true;
      expect((await system.api("POST", `/v1/hooks/${hookId}/ordering/retry`)).status).toBe(202);
      const succeeded = () =>
        ordered.requests.map((r) => JSON.parse(r.body)._id).filter((id, i, all) => all.indexOf(id) === i);
      await ordered.waitFor(() => succeeded().length === 4);
      expect(succeeded()).toEqual(entries.map((e) => e._id));
      await eventually(
        async () => (await system.api("GET", `/v1/hooks/${hookId}/ordering`)).json?.pending === 0,
      );
    } finally {
      await ordered.close();
    }
  });

  test("the queue view lists one queue per partition", async () => {
    const response = await fetch(`${system.baseUrl}/admin/queues/api/queues`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    expect(response.status).toBe(200);
    const { queues } = (await response.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(["p0-deliveries", "p1-deliveries", "p2-deliveries"]);
  });
});
