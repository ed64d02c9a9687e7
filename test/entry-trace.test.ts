import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { testScope } from "./support/scope";

// "Why did my entry not arrive?": GET /v1/entries/:id answers, per hook enabled when the entry
// was accepted, what became of it and why, for the idempotency window.

const scope = testScope();

const FLAGS = { effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] };

describe("GET /v1/entries/:id", () => {
  test("each hook's outcome: queued with its delivery's status, filtered with the statement that decided", async () => {
    const rx = await scope.receiver();
    const sys = await scope.system({ label: "trace" });
    const hook = async (name: string, policy: unknown[]) => {
      const created = await sys.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name,
        formVariables: { url: rx.url },
        policy,
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      return created.json.id as string;
    };
    const flags = await hook("flags", [FLAGS]);
    const notProduction = await hook("not production", [
      FLAGS,
      { effect: "deny", resources: ["proj/*:env/production:flag/*"], actions: ["*"] },
    ]);
    const projects = await hook("projects only", [
      { effect: "allow", resources: ["proj/*"], actions: ["*"] },
    ]);

    const entry = entryFixture("flag-toggle", { _id: "trace-0001" });
    expect((await sys.api("POST", "/v1/entries", entry)).status).toBe(202);
    await rx.waitFor((requests) => requests.length === 1);

    let trace: any;
    await eventually(async () => {
      trace = (await sys.api("GET", "/v1/entries/trace-0001")).json;
      return trace.hooks.find((h: { hookId: string }) => h.hookId === flags)?.status === "succeeded";
    });
    expect(trace.id).toBe("trace-0001");
    expect(Date.parse(trace.acceptedAt)).toBeGreaterThan(Date.now() - 60_000);
    const byHook = Object.fromEntries(trace.hooks.map((h: { hookId: string }) => [h.hookId, h]));
    expect(byHook[flags]).toEqual({
      hookId: flags,
      name: "flags",
      outcome: "queued",
      deliveryId: `${flags}.trace-0001`,
      status: "succeeded",
    });
    expect(byHook[notProduction]).toEqual({
      hookId: notProduction,
      name: "not production",
      outcome: "filtered",
      reason: "denied by statement 1 of the hook's policy",
    });
    expect(byHook[projects]).toMatchObject({
      outcome: "filtered",
      reason: expect.stringContaining("denied by default"),
    });

    // A duplicate changes nothing: the trace is the accepting request's.
    const again = await sys.api("POST", "/v1/entries", entry);
    expect(again.json.entries[0].duplicate).toBe(true);
    expect((await sys.api("GET", "/v1/entries/trace-0001")).json.hooks).toEqual(trace.hooks);

    const unknown = await sys.api("GET", "/v1/entries/never-posted");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({
      code: "API_ERR_NOT_FOUND",
      message: expect.stringContaining("never-posted"),
    });
  });

  test("only the hooks enabled when the entry was accepted are in its trace", async () => {
    const sys = await scope.system({ label: "trace-skip", worker: false });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "off",
      formVariables: { url: "http://127.0.0.1:9/" },
    });
    expect(created.status).toBe(201);
    // Turned off: not among the hooks the entry is routed against.
    expect((await sys.api("PATCH", `/v1/hooks/${created.json.id}`, { on: false })).status).toBe(200);
    expect(
      (await sys.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "trace-0002" }))).status,
    ).toBe(202);
    const trace = await sys.api("GET", "/v1/entries/trace-0002");
    expect(trace.status).toBe(200);
    expect(trace.json.hooks).toEqual([]);
  });
});
