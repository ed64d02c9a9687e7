import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyspace } from "@hookwire/queue";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { testScope } from "./support/scope";

// A receiver (or a proxy before it) that echoes the request it got into its error answer must
// not turn the kept error body into a copy of the hook's secrets: not in the delivery's record,
// nor in "test this hook"'s answer, nor in Redis.

const scope = testScope();
const API_KEY = "hook-api-key-0123456789abcdef";
const PASSWORD = "url-pass-9876543210";

describe("secrets echoed back by a receiver", () => {
  test("are blanked out of kept error bodies, in the delivery, the test answer and Redis", async () => {
    const rx = await scope.receiver((request, response) => {
      // Echoes everything it was sent: the URL (with its query) and every header.
      response
        .writeHead(400, { "content-type": "application/json" })
        .end(JSON.stringify({ url: request.url, headers: request.headers }));
    });
    const port = new URL(rx.url).port;
    const dir = await mkdtemp(join(tmpdir(), "hookwire-echo-"));
    scope.defer(() => rm(dir, { recursive: true, force: true }));
    // The receiver's host written in the manifest: a fixed host, whose error bodies are kept.
    await mkdir(join(dir, "echo", "templates"), { recursive: true });
    await writeFile(
      join(dir, "echo", "manifest.json"),
      JSON.stringify({
        name: "Echo",
        formVariables: [
          { key: "apiKey", name: "API key", type: "string", description: "The key.", isSecret: true },
          { key: "pass", name: "Password", type: "string", description: "The password.", isSecret: true },
        ],
        capabilities: {
          auditLogEventsHook: {
            includeErrorResponseBody: true,
            endpoint: {
              url: `http://127.0.0.1:${port}/in?key={{queryEncode apiKey}}`,
              method: "POST",
              headers: [
                { name: "Authorization", value: "Bearer {{apiKey}}" },
                { name: "X-Basic", value: "{{basicAuthHeaderValue 'hook' pass}}" },
              ],
            },
            templates: { default: "templates/default.json.hbs" },
            defaultPolicy: [{ effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] }],
          },
        },
      }),
    );
    await writeFile(join(dir, "echo", "templates", "default.json.hbs"), '{"k": "{{key}}"}');
    const sys = await scope.system({ label: "echo", env: { HOOKWIRE_INTEGRATIONS_DIR: dir } });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "echo",
      name: "echo",
      formVariables: { apiKey: API_KEY, pass: PASSWORD },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const hookId = created.json.id as string;

    const entry = entryFixture("flag-toggle", { _id: "echo-0001" });
    expect((await sys.api("POST", "/v1/entries", entry)).status).toBe(202);
    let record: any;
    await eventually(async () => {
      record = (await sys.api("GET", `/v1/deliveries/${hookId}.echo-0001`)).json;
      return record?.status === "failed";
    });
    // The receiver did get the secrets (it is their echo that must not be kept).
    expect(rx.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const kept: string = record.attempts[0].errorBody;
    expect(JSON.parse(kept).headers).toMatchObject({ authorization: "********", "x-basic": "********" });
    const tested = await sys.api("POST", `/v1/hooks/${hookId}/test`);
    expect(tested.json.statusCode).toBe(400);

    const everything = [
      JSON.stringify(record),
      JSON.stringify(tested.json),
      JSON.stringify((await sys.api("GET", "/v1/deliveries")).json),
      JSON.stringify(await sys.redis.mget(keyspace(sys.config.queuePrefix).delivery(`${hookId}.echo-0001`))),
      sys.logLines.join("\n"),
    ].join("\n");
    for (const secret of [API_KEY, PASSWORD]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
    }
    expect(everything).not.toContain(Buffer.from(`hook:${PASSWORD}`).toString("base64").replace(/=+$/, ""));
  });

  test("a URL's password is a secret: sealed in Redis, masked in every answer and log, kept by a masked PATCH", async () => {
    const rx = await scope.receiver();
    const sys = await scope.system({ label: "userinfo" });
    const url = new URL(rx.url);
    url.username = "alice";
    url.password = PASSWORD;
    url.pathname = "/in";
    const masked = `http://alice:********@${url.host}/in`;
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "with userinfo",
      formVariables: { url: url.toString() },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.formVariables.url).toBe(masked);
    const hookId = created.json.id as string;

    // The masked URL sent back keeps the password; a real change would replace it.
    const patched = await sys.api("PATCH", `/v1/hooks/${hookId}`, {
      name: "renamed",
      formVariables: { url: masked },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.formVariables.url).toBe(masked);
    // Plain ******** keeps it too, as for any secret.
    const plain = await sys.api("PATCH", `/v1/hooks/${hookId}`, { formVariables: { url: "********" } });
    expect(plain.json.formVariables.url).toBe(masked);

    const entry = entryFixture("flag-toggle", { _id: "userinfo-0001" });
    expect((await sys.api("POST", "/v1/entries", entry)).status).toBe(202);
    await rx.waitFor((requests) => requests.length === 1);
    expect(rx.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}`,
    );
    await eventually(async () => {
      const record = (await sys.api("GET", `/v1/deliveries/${hookId}.userinfo-0001`)).json;
      return record?.status === "succeeded";
    });

    const stored = await sys.redis.hgetall(keyspace(sys.config.queuePrefix).hooks);
    const everything = [
      JSON.stringify(stored),
      JSON.stringify((await sys.api("GET", "/v1/hooks")).json),
      JSON.stringify((await sys.api("GET", `/v1/hooks/${hookId}`)).json),
      JSON.stringify((await sys.api("GET", "/v1/deliveries")).json),
      sys.logLines.join("\n"),
    ].join("\n");
    expect(everything).toContain(url.host);
    expect(everything).not.toContain(PASSWORD);
  });
});
