import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { testScope } from "./support/scope";

// hookwire's own events are entries of kind `hookwire`, delivered like any other: a hook of the
// Slack integration whose policy allows `hook/*` hears that another hook was turned off by a
// 410, and of the circuit of a third opening; the hook an event is about never gets it, and a
// policy that names only projects never matches one.

const scope = testScope();
const OPERATORS_POLICY = [{ effect: "allow", resources: ["hook/*"], actions: ["*"] }];

interface SlackMessage {
  text: string;
  blocks: { text?: { text: string } }[];
}

describe("operational events", () => {
  test("a Slack hook allowing hook/* hears of a hook turned off by a 410 and of a circuit opening, and neither hook hears of itself", async () => {
    const slack = await scope.receiver();
    const gone = await scope.receiver((_request, response) => response.writeHead(410).end());
    const failing = await scope.receiver((_request, response) => response.writeHead(500).end());
    const projects = await scope.receiver();
    const sys = await scope.system({
      label: "events",
      env: { HOOKWIRE_CIRCUIT_FAILURES: "2", HOOKWIRE_RETRY_SCHEDULE: "0.05,0.05,0.05" },
    });
    const create = async (body: Record<string, unknown>) => {
      const created = await sys.api("POST", "/v1/hooks", body);
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      return created.json.id as string;
    };
    await create({
      integration: "slack",
      name: "operators",
      formVariables: { webhookUrl: `${slack.url}/services/T0/B0/x` },
      policy: OPERATORS_POLICY,
    });
    const goneId = await create({
      integration: "generic-webhook",
      name: "retired receiver",
      formVariables: { url: gone.url },
    });
    // It allows hook/* too: the events about its own circuit must still not come to it.
    const failingId = await create({
      integration: "generic-webhook",
      name: "flaky receiver",
      formVariables: { url: failing.url },
      policy: [...OPERATORS_POLICY, { effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] }],
    });
    // A policy naming only projects never matches an event.
    await create({
      integration: "generic-webhook",
      name: "projects only",
      formVariables: { url: projects.url },
      policy: [{ effect: "allow", resources: ["proj/*"], actions: ["*"] }],
    });

    expect((await sys.api("POST", "/v1/entries", entryFixture("flag-toggle"))).status).toBe(202);

    const titles = () =>
      slack.requests.map((r) => (JSON.parse(r.body) as SlackMessage).blocks[0]?.text?.text ?? "");
    await slack.waitFor(
      () =>
        titles().includes("hookwire turned hook retired receiver off") &&
        titles().includes("hook flaky receiver stopped answering: hookwire holds its deliveries"),
    );
    const turnedOff = slack.requests.find((r) =>
      r.body.includes("hookwire turned hook retired receiver off"),
    );
    expect(turnedOff?.body).toContain("410");

    // The API reads hooks through a cache of a quarter second: it shows the change soon after.
    await eventually(async () => {
      const hooks = (await sys.api("GET", "/v1/hooks")).json.hooks as { id: string; on: boolean }[];
      return hooks.find((h) => h.id === goneId)?.on === false;
    });
    // The flaky hook allows hook/*: it may hear of the retired one, never of itself.
    const about = (body: string) => (JSON.parse(body) as { hook?: { id: string } }).hook?.id;
    expect(failing.requests.map((r) => about(r.body)).filter((id) => id === failingId)).toEqual([]);
    expect(projects.requests.every((r) => JSON.parse(r.body).kind !== "hookwire")).toBe(true);
    expect(failingId).not.toBe(goneId);
  });

  test("turning a hook hookwire had turned off on again tells the operators it recovered", async () => {
    const slack = await scope.receiver();
    const gone = await scope.receiver((_request, response) => response.writeHead(410).end());
    const sys = await scope.system({ label: "events-recovered" });
    await sys.api("POST", "/v1/hooks", {
      integration: "slack",
      name: "operators",
      formVariables: { webhookUrl: `${slack.url}/services/T0/B0/x` },
      policy: OPERATORS_POLICY,
    });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "moved receiver",
      formVariables: { url: gone.url },
    });
    const hookId = created.json.id as string;
    expect((await sys.api("POST", "/v1/entries", entryFixture("flag-toggle"))).status).toBe(202);
    await slack.waitFor(() =>
      slack.requests.some((r) => r.body.includes("hookwire turned hook moved receiver off")),
    );

    expect((await sys.api("PATCH", `/v1/hooks/${hookId}`, { on: true })).status).toBe(200);
    await slack.waitFor(() => slack.requests.some((r) => r.body.includes("hook moved receiver is on again")));
  });
});
