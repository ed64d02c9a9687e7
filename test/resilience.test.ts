import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// The circuit breaker, replay of dead letters and Standard Webhooks signatures, end to end.
describe("resilience", () => {
  let system: System;
  const receivers: Receiver[] = [];
  let healthy = false;
  let sequence = 0;

  beforeAll(async () => {
    system = await startSystem({
      label: "resilience",
      // Three quick retries at most: without the breaker, a receiver down for a second loses deliveries.
      env: {
        HOOKWIRE_CIRCUIT_FAILURES: "3",
        HOOKWIRE_CIRCUIT_OPEN_MS: "300",
        HOOKWIRE_RETRY_SCHEDULE: "0.05,0.1",
      },
    });
  });
  afterAll(async () => {
    await system?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function hookTo(respond: Parameters<typeof startReceiver>[0], extra: Record<string, unknown> = {}) {
    const receiver = await startReceiver(respond);
    receivers.push(receiver);
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: `hook ${receivers.length}`,
      formVariables: { url: receiver.url, secret: "whsec-test-secret" },
      ...extra,
    });
    expect(created.status).toBe(201);
    return { receiver, hookId: created.json.id as string };
  }

  async function postEntries(count: number): Promise<string[]> {
    const entries = Array.from({ length: count }, () =>
      entryFixture("flag-toggle", { _id: `resilience-${++sequence}` }),
    );
    expect((await system.api("POST", "/v1/entries", entries)).status).toBe(202);
    return entries.map((e) => e._id as string);
  }

  test("an open circuit holds deliveries without spending their attempts, and a probe resumes them", async () => {
    const { hookId } = await hookTo((_req, res) => res.writeHead(healthy ? 200 : 503).end());
    const entryIds = await postEntries(10);
    await eventually(
      async () => (await system.api("GET", `/v1/hooks/${hookId}`)).json.health.circuit === "open",
      10_000,
      "circuit open",
    );
    healthy = true;
    for (const entryId of entryIds) {
      await eventually(
        async () =>
          (await system.api("GET", `/v1/deliveries/${hookId}.${entryId}`)).json.status === "succeeded",
        15_000,
        entryId,
      );
    }
    const records = await Promise.all(
      entryIds.map(async (id) => (await system.api("GET", `/v1/deliveries/${hookId}.${id}`)).json),
    );
    for (const record of records) {
      expect(record.attempts.at(-1).statusCode).toBe(200);
      expect(record.attempts.length).toBeLessThanOrEqual(3);
    }
    expect((await system.api("GET", `/v1/hooks/${hookId}`)).json.health.circuit).toBe("closed");
  });

  test("replay queues a hook's failed deliveries again; dryRun only counts them", async () => {
    let accept = false;
    const { receiver, hookId } = await hookTo((_req, res) => res.writeHead(accept ? 200 : 400).end());
    const entryIds = await postEntries(3);
    for (const id of entryIds) {
      await eventually(
        async () => (await system.api("GET", `/v1/deliveries/${hookId}.${id}`)).json.status === "failed",
      );
    }
    const dry = await system.api("POST", `/v1/hooks/${hookId}/replay`, { dryRun: true });
    expect(dry.status).toBe(202);
    expect(dry.json).toMatchObject({ dryRun: true, count: 3 });
    expect(receiver.requests).toHaveLength(3);

    accept = true;
    const replayed = await system.api("POST", `/v1/hooks/${hookId}/replay`, {
      since: new Date(0).toISOString(),
    });
    expect(replayed.json.count).toBe(3);
    await receiver.waitFor((requests) => requests.length === 6);
    for (const id of entryIds) {
      await eventually(
        async () => (await system.api("GET", `/v1/deliveries/${hookId}.${id}`)).json.status === "succeeded",
      );
    }
  });

  test("Standard Webhooks headers verify with the hook's secret", async () => {
    const { receiver } = await hookTo(undefined, { delivery: { standardWebhooks: true } });
    const [entryId] = await postEntries(1);
    await receiver.waitFor((requests) => requests.some((r) => JSON.parse(r.body)._id === entryId));
    const request = receiver.requests.find((r) => JSON.parse(r.body)._id === entryId)!;
    const id = String(request.headers["webhook-id"]);
    const timestamp = String(request.headers["webhook-timestamp"]);
    expect(id).toBe(request.headers["x-hookwire-delivery"]);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const expected = createHmac("sha256", "whsec-test-secret")
      .update(`${id}.${timestamp}.${request.body}`)
      .digest("base64");
    expect(String(request.headers["webhook-signature"]).split(" ")).toContain(`v1,${expected}`);
  });
});
