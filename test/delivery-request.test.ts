import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { testScope } from "./support/scope";

// GET /v1/deliveries/:id/request: the request each attempt sent, rebuilt by the builder the
// worker sends with, and no secret of the hook in the answer, in any of the forms it was sent in.

const scope = testScope();
const API_KEY = "request-api-key-0123456789";
const PASSWORD = "request-pass-9876543210";
const SIGNING = "request-signing-secret-42";

describe("the request of a delivery, as sent", () => {
  test("shows each attempt's method, URL, headers and body with every secret and signature masked", async () => {
    const rx = await scope.receiver((_request, response) => {
      response.writeHead(400, { "content-type": "application/json" }).end('{"error":"no"}');
    });
    const port = new URL(rx.url).port;
    const dir = await mkdtemp(join(tmpdir(), "hookwire-request-"));
    scope.defer(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "keyed", "templates"), { recursive: true });
    await writeFile(
      join(dir, "keyed", "manifest.json"),
      JSON.stringify({
        name: "Keyed",
        formVariables: [
          { key: "apiKey", name: "API key", type: "string", description: "The key.", isSecret: true },
          { key: "pass", name: "Password", type: "string", description: "The password.", isSecret: true },
          { key: "signing", name: "Signing", type: "string", description: "Signs.", isSecret: true },
        ],
        capabilities: {
          auditLogEventsHook: {
            includeErrorResponseBody: true,
            endpoint: {
              url: `http://127.0.0.1:${port}/in?key={{queryEncode apiKey}}`,
              method: "POST",
              headers: [
                { name: "Content-Type", value: "application/json" },
                { name: "Authorization", value: "Bearer {{apiKey}}" },
                { name: "X-Basic", value: "{{basicAuthHeaderValue 'hook' pass}}" },
              ],
              hmacSignature: { headerName: "X-Signature", hmacSecretFormVariableKey: "signing" },
            },
            templates: { default: "templates/default.json.hbs" },
            defaultPolicy: [{ effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] }],
          },
        },
      }),
    );
    await writeFile(join(dir, "keyed", "templates", "default.json.hbs"), '{"flag": "{{key}}"}');
    const sys = await scope.system({ label: "request", env: { HOOKWIRE_INTEGRATIONS_DIR: dir } });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "keyed",
      name: "keyed",
      formVariables: { apiKey: API_KEY, pass: PASSWORD, signing: SIGNING },
      delivery: { standardWebhooks: true, retrySchedule: [] },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const hookId = created.json.id as string;
    const id = `${hookId}.request-0001`;

    expect(
      (await sys.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "request-0001" }))).status,
    ).toBe(202);
    let record: any;
    await eventually(async () => {
      record = (await sys.api("GET", `/v1/deliveries/${id}`)).json;
      return record?.status === "failed";
    });
    const answer = await sys.api("GET", `/v1/deliveries/${id}/request`);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const shown = answer.json;
    expect(shown).toMatchObject({ deliveryId: id, bodyKept: true, keepsErrorBody: true });
    expect(shown.requests).toHaveLength(record.attempts.length);
    const [first] = shown.requests;
    const sent = rx.requests[0]!;
    expect(first).toMatchObject({ attempt: 1, at: record.attempts[0].at, method: "POST" });
    expect(first.url).toBe(`http://127.0.0.1:${port}/in?key=********`);
    // The body is the one the receiver got, byte for byte.
    expect(first.body).toBe(sent.body);
    const header = (name: string) =>
      first.headers.find((h: { name: string }) => h.name.toLowerCase() === name)?.value;
    expect(header("content-type")).toBe("application/json");
    expect(header("authorization")).toBe("Bearer ********");
    expect(header("x-basic")).toBe("Basic ********");
    expect(header("x-signature")).toBe("********");
    expect(header("webhook-signature")).toBe("********");
    expect(header("webhook-id")).toBe(id);
    expect(header("webhook-timestamp")).toBe(String(Math.floor(record.attempts[0].at / 1000)));
    // What the receiver got under the masks: the same headers, by name.
    for (const name of ["authorization", "x-basic", "x-signature", "webhook-signature", "webhook-id"])
      expect(sent.headers[name], name).toBeDefined();

    const everything = JSON.stringify(shown);
    for (const secret of [API_KEY, PASSWORD, SIGNING, `hook:${PASSWORD}`]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
    }
    expect(everything).not.toContain(String(sent.headers["x-signature"]));

    // A read key may look; an unknown delivery is a 404.
    expect((await sys.api("GET", "/v1/deliveries/nope.nothing/request")).status).toBe(404);
  });

  test("a succeeded delivery keeps no body: its URL shows where it went with the secret URL masked", async () => {
    const rx = await scope.receiver();
    const sys = await scope.system({ label: "request-ok" });
    const secretUrl = `${rx.url}/services/T0/B0/sekrit-path-123`;
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "slack",
      name: "ops",
      formVariables: { webhookUrl: secretUrl },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = `${created.json.id}.request-ok-1`;
    expect(
      (await sys.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "request-ok-1" }))).status,
    ).toBe(202);
    await rx.waitFor((requests) => requests.length === 1);
    await eventually(async () => (await sys.api("GET", `/v1/deliveries/${id}`)).json?.status === "succeeded");
    const shown = (await sys.api("GET", `/v1/deliveries/${id}/request`)).json;
    expect(shown.bodyKept).toBe(false);
    expect(shown.note).toMatch(/body is not kept/);
    expect(shown.requests).toHaveLength(1);
    expect(shown.requests[0].url).toBe(`${new URL(rx.url).origin}/********`);
    expect(shown.requests[0].body).toBeNull();
    expect(JSON.stringify(shown)).not.toContain("sekrit-path-123");
    expect(JSON.stringify(shown)).not.toContain("/services/T0");
  });
});
