import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// The worker's behaviours against real receivers: retries recorded, give-ups, Retry-After,
// error bodies, secret rotation. Each hook has a receiver of its own.
describe("delivery behaviours", () => {
  let system: System;
  const receivers: Receiver[] = [];
  let entryCount = 0;

  beforeAll(async () => {
    system = await startSystem({ label: "delivery" });
  });
  afterAll(async () => {
    await system?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function hookTo(receiver: Receiver, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: `hook ${receivers.length}`,
      formVariables: { url: receiver.url, secret: "first-secret" },
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.json.id;
  }

  /** Posts a fresh flag entry; answers the id of its delivery to `hookId`. */
  async function post(hookId: string): Promise<string> {
    const id = `delivery-test-${++entryCount}`;
    const posted = await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: id }));
    const result = posted.json.entries[0].hooks.find((h: { hookId: string }) => h.hookId === hookId);
    expect(result?.outcome).toBe("queued");
    return result.deliveryId;
  }

  async function settled(deliveryId: string, status: string) {
    let record: any;
    await eventually(
      async () => {
        record = (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json;
        return record?.status === status;
      },
      10_000,
      `delivery ${deliveryId} ${status}`,
    );
    return record;
  }

  async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  }

  test("retries a 503, then succeeds, with every attempt recorded", async () => {
    let calls = 0;
    const flaky = await receiver((_req, res) => {
      calls++;
      res.writeHead(calls <= 2 ? 503 : 200).end();
    });
    const hookId = await hookTo(flaky);
    const record = await settled(await post(hookId), "succeeded");
    expect(record.attempts.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [1, 503, "retry"],
      [2, 503, "retry"],
      [3, 200, "done"],
    ]);
    expect(flaky.requests.map((r) => r.headers["x-hookwire-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(flaky.requests.map((r) => r.headers["x-hookwire-delivery"])).size).toBe(1);
  });

  test("gives up on 400 after one attempt, keeping the error body where the rule allows", async () => {
    const refusing = await receiver((_req, res) =>
      res.writeHead(400, { "content-type": "text/plain" }).end("bad payload"),
    );
    const hookId = await hookTo(refusing);
    const record = await settled(await post(hookId), "failed");
    expect(record.attempts).toHaveLength(1);
    expect(record.attempts[0].statusCode).toBe(400);
    expect(refusing.requests).toHaveLength(1);
    // generic-webhook's URL is the operator's to choose and this system opens loopback to hooks,
    // so the framework's rule says: do not keep the body (an internal service's answer).
    expect(record.attempts[0].errorBody).toBeUndefined();
  });

  test("honours Retry-After as the floor of the next attempt", async () => {
    let calls = 0;
    const limited = await receiver((_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { "retry-after": "1" }).end();
      else res.writeHead(200).end();
    });
    const hookId = await hookTo(limited);
    const record = await settled(await post(hookId), "succeeded");
    const [first, second] = record.attempts;
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
  });

  test("signs with the secret as it is at each attempt: a rotated secret is used from the next one", async () => {
    let hookId = "";
    let calls = 0;
    const rotating = await receiver((_req, res) => {
      calls++;
      if (calls > 1) return void res.writeHead(200).end();
      // Rotate while the first attempt is in flight, then fail it.
      void system
        .api("PATCH", `/v1/hooks/${hookId}`, { formVariables: { secret: "second-secret" } })
        .then(() => res.writeHead(500).end());
    });
    hookId = await hookTo(rotating, { delivery: { retrySchedule: [1] } });
    await settled(await post(hookId), "succeeded");
    const [first, second] = rotating.requests;
    expect(first?.headers["x-ld-signature"]).toBe(
      createHmac("sha256", "first-secret").update(first!.body).digest("hex"),
    );
    expect(second?.headers["x-ld-signature"]).toBe(
      createHmac("sha256", "second-secret").update(second!.body).digest("hex"),
    );
  });

  test("a 410 Gone gives up and turns the hook off, saying why", async () => {
    const gone = await receiver((_req, res) => res.writeHead(410).end());
    const hookId = await hookTo(gone);
    await settled(await post(hookId), "failed");
    await eventually(async () => (await system.api("GET", `/v1/hooks/${hookId}`)).json.on === false);
    const hook = (await system.api("GET", `/v1/hooks/${hookId}`)).json;
    expect(hook.disabled.reason).toMatch(/410/);
  });

  test("retrying a failed delivery by hand sends it again", async () => {
    let calls = 0;
    const second = await receiver((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 400 : 200).end();
    });
    const hookId = await hookTo(second);
    const deliveryId = await post(hookId);
    await settled(deliveryId, "failed");
    const retried = await system.api("POST", `/v1/deliveries/${deliveryId}/retry`);
    expect(retried.status).toBe(202);
    const record = await settled(deliveryId, "succeeded");
    expect(record.attempts.map((a: any) => a.statusCode)).toEqual([400, 200]);
  });
});
