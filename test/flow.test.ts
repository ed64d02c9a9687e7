import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// The first slice end to end: an entry posted to ingest arrives at a real receiver as the
// generic webhook's body, once, and only when the hook's policy allows it.
describe("one entry, end to end", () => {
  let system: System;
  let receiver: Receiver;
  let hookId: string;
  const secret = "e2e-signing-secret";

  beforeAll(async () => {
    receiver = await startReceiver();
    system = await startSystem({ label: "flow" });
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
});
