import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type OwnCluster, ownCluster } from "../bench/src/redis-cluster";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// The core flow end to end: an entry posted to ingest arrives at a real receiver as the generic
// webhook's body, once, and only when the hook's policy allows it; a failed attempt is retried,
// a failed delivery replayed, and the stats count it all. The same tests on a single Redis and on
// a real Redis Cluster of three masters (four partitions, each under a hash tag of its own: no
// CROSSSLOT anywhere).
const backends: {
  name: string;
  start: () => Promise<{ env: Record<string, string>; stop?: () => Promise<void> }>;
}[] = [
  { name: "a single Redis", start: async () => ({ env: {} }) },
  {
    name: "a Redis Cluster",
    start: async () => {
      const cluster: OwnCluster = await ownCluster();
      return { env: cluster.env, stop: () => cluster.stop() };
    },
  },
];

describe.each(backends)("the core flow on $name", ({ start }) => {
  let system: System;
  let receiver: Receiver;
  let hookId: string;
  let stopBackend: (() => Promise<void>) | undefined;
  const secret = "e2e-signing-secret";

  beforeAll(async () => {
    receiver = await startReceiver();
    const backend = await start();
    stopBackend = backend.stop;
    system = await startSystem({ label: "flow", env: backend.env });
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "receiver",
      formVariables: { url: `${receiver.url}/hook`, secret },
    });
    expect(created.status).toBe(201);
    hookId = created.json.id;
  });

  afterAll(async () => {
    await system?.close();
    await receiver?.close();
    await stopBackend?.();
  });

  const arrived = (entryId: string) => receiver.requests.filter((r) => JSON.parse(r.body)._id === entryId);

  test("an entry arrives as the generic webhook's body, signed", async () => {
    const entry = entryFixture("flag-toggle");
    const posted = await system.api("POST", "/v1/entries", entry);
    expect(posted.status, JSON.stringify(posted.json)).toBe(202);
    expect(posted.json.entries).toEqual([
      {
        id: entry._id,
        duplicate: false,
        hooks: [{ hookId, deliveryId: `${hookId}.${entry._id}`, outcome: "queued" }],
      },
    ]);

    await receiver.waitFor(() => arrived(entry._id as string).length === 1);
    const [request] = arrived(entry._id as string);
    expect(request?.url).toBe("/hook");
    expect(JSON.parse(request!.body)).toEqual(entry);
    expect(request?.headers["x-ld-signature"]).toBe(
      createHmac("sha256", secret).update(request!.body).digest("hex"),
    );
    expect(request?.headers["x-hookwire-delivery"]).toBe(`${hookId}.${entry._id}`);
    expect(request?.headers["x-hookwire-attempt"]).toBe("1");

    await eventually(
      async () =>
        (await system.api("GET", `/v1/deliveries/${hookId}.${entry._id}`)).json?.status === "succeeded",
    );
  });

  test("the same entry posted twice arrives once", async () => {
    const entry = entryFixture("flag-toggle", { _id: "e2e-twice-0001" });
    const first = await system.api("POST", "/v1/entries", entry);
    const second = await system.api("POST", "/v1/entries", entry);
    expect(first.json.entries[0].duplicate).toBe(false);
    expect(second.status).toBe(202);
    expect(second.json.entries).toEqual([{ id: "e2e-twice-0001", duplicate: true, hooks: [] }]);

    await receiver.waitFor(() => arrived("e2e-twice-0001").length >= 1);
    await eventually(async () => (await system.pendingJobs()) === 0, 10_000, "queue drained");
    expect(arrived("e2e-twice-0001")).toHaveLength(1);
  });

  test("an entry the policy does not allow is filtered and never arrives", async () => {
    // generic-webhook's default policy allows flag changes only; this is a project change.
    const posted = await system.api("POST", "/v1/entries", entryFixture("project-update"));
    expect(posted.json.entries[0].hooks).toEqual([{ hookId, outcome: "filtered" }]);

    // A flag entry posted after it does arrive; once the queue is empty, the project one had its chance.
    const marker = entryFixture("flag-toggle", { _id: "e2e-after-filtered" });
    await system.api("POST", "/v1/entries", marker);
    await receiver.waitFor(() => arrived("e2e-after-filtered").length === 1);
    await eventually(async () => (await system.pendingJobs()) === 0, 10_000, "queue drained");
    expect(arrived("e2e-project-update-0001")).toHaveLength(0);
  });

  test("a failed attempt is retried, then a failed delivery is replayed, and both arrive", async () => {
    let calls = 0;
    const flaky = await startReceiver((_request, response) => {
      calls++;
      // 503 first (retried by the schedule), then 400 (given up), then 200 (the replay).
      response.writeHead(calls === 1 ? 503 : calls === 2 ? 400 : 200).end();
    });
    try {
      const created = await system.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "flaky",
        formVariables: { url: flaky.url },
      });
      expect(created.status).toBe(201);
      const flakyId = created.json.id as string;
      const entry = entryFixture("flag-toggle", { _id: "e2e-flaky-0001" });
      expect((await system.api("POST", "/v1/entries", entry)).status).toBe(202);
      const deliveryId = `${flakyId}.${entry._id}`;
      await eventually(
        async () => (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json?.status === "failed",
        10_000,
        "the delivery failed",
      );
      const failed = (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json;
      expect(failed.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 400]);

      const replayed = await system.api("POST", `/v1/hooks/${flakyId}/replay`, {});
      expect(replayed.status).toBe(202);
      expect(replayed.json).toEqual({ dryRun: false, count: 1, deliveryIds: [deliveryId] });
      await eventually(
        async () => (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json?.status === "succeeded",
        10_000,
        "the replayed delivery succeeded",
      );
      expect(flaky.requests).toHaveLength(3);
    } finally {
      await flaky.close();
    }
  });

  test("GET /v1/stats counts the deliveries and the queue on it", async () => {
    await eventually(async () => (await system.pendingJobs()) === 0, 10_000, "queue drained");
    // Every delivery that succeeded above: the signed one, the one posted twice, the marker after
    // the filtered one, the flaky entry at the first hook, and its replay at the flaky one.
    await eventually(
      async () => (await system.api("GET", "/v1/stats")).json?.totals.deliveries.succeeded === 5,
      10_000,
      "stats count 5 succeeded deliveries",
    );
    const { status, json: stats } = await system.api("GET", "/v1/stats");
    expect(status).toBe(200);
    expect(stats.totals).toMatchObject({
      deliveries: { succeeded: 5, failed: 1, stuck: 0 },
      attempts: { succeeded: 5, retry: 1, failed: 1 },
    });
  });

  test("no command was refused for keys in different slots (CROSSSLOT), in any log line", () => {
    expect(system.logLines.length).toBeGreaterThan(0);
    expect(system.logLines.filter((line) => line.includes("CROSSSLOT"))).toEqual([]);
  });
});
