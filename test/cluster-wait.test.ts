import { keyspace } from "@hookwire/queue";
import calculateSlot from "cluster-key-slot";
import type { Cluster } from "ioredis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type OwnCluster, ownCluster } from "../bench/src/redis-cluster";
import { entryFixture } from "./support/fixtures";
import { type System, startSystem } from "./support/system";

// HOOKWIRE_REDIS_WAIT_REPLICAS on a real Redis Cluster of three masters with a replica each:
// WAIT names no key, so it must go to the master that holds the installation's hash tag (the
// cluster client would send it to any node). Asserted by stopping that master's replica: ingest
// then refuses to answer 202, and accepts the retry once the replica is back.
describe("HOOKWIRE_REDIS_WAIT_REPLICAS=1 on a Redis Cluster", () => {
  let cluster: OwnCluster;
  let system: System;

  beforeAll(async () => {
    cluster = await ownCluster(3, 1);
    system = await startSystem({
      label: "cluster-wait",
      worker: false,
      env: { ...cluster.env, HOOKWIRE_REDIS_WAIT_REPLICAS: "1", HOOKWIRE_REDIS_WAIT_TIMEOUT_MS: "300" },
    });
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "receiver",
      formVariables: { url: "http://127.0.0.1:9/never-sent" },
    });
    expect(created.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await system?.close();
    await cluster?.stop();
  });

  test("answers 202 once the tag's replica holds the entry, 503 while that replica is stopped, and 202 to the retry after", async () => {
    const keys = keyspace(system.config.queuePrefix);
    // The master of the tag's slot, and its replica (CLUSTER NODES: id, address, flags, master id).
    const masterPort = Number(
      (system.redis as unknown as Cluster).slots[calculateSlot(keys.outbox)]?.[0]?.split(":")[1],
    );
    const master = new Redis({ host: "127.0.0.1", port: masterPort, maxRetriesPerRequest: 1 });
    const lines = String(await master.cluster("NODES"))
      .trim()
      .split("\n")
      .map((line) => line.split(" "));
    master.disconnect();
    const masterId = lines.find((fields) => fields[2]?.includes("myself"))?.[0];
    const replicaPort = Number(lines.find((fields) => fields[3] === masterId)?.[1]?.split(/[:@]/)[1]);
    const replicaPid = cluster.pids[cluster.ports.indexOf(replicaPort)];
    expect(replicaPid).toBeGreaterThan(0);

    const first = entryFixture("flag-toggle", { _id: "cluster-wait-1" });
    expect((await system.api("POST", "/v1/entries", first)).status).toBe(202);
    // WAIT answered for it: the replica holds the entry's claim already.
    const replica = new Redis({ host: "127.0.0.1", port: replicaPort, maxRetriesPerRequest: 1 });
    try {
      await replica.readonly();
      expect(await replica.exists(keys.entrySeen("cluster-wait-1"))).toBe(1);
    } finally {
      replica.disconnect();
    }

    process.kill(replicaPid!, "SIGSTOP");
    const second = entryFixture("flag-toggle", { _id: "cluster-wait-2" });
    try {
      const refused = await system.api("POST", "/v1/entries", second);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).not.toBeNull();
    } finally {
      process.kill(replicaPid!, "SIGCONT");
    }
    const retried = await system.api("POST", "/v1/entries", second);
    expect(retried.status).toBe(202);
  }, 60_000);
});
