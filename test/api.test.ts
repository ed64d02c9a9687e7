import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { applyHooksFile, buildApp, HooksFileError } from "@hookwire/ingest";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import { connectRedis, keyspace } from "@hookwire/queue";
import { HookStore, SecretBox } from "@hookwire/store";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { ownRedis } from "./support/redis-server";
import { type System, startSystem } from "./support/system";

const INGEST_KEY = "ingest-only-key-0001-padded";
const READ_KEY = "read-only-key-000001-padded";
const SECRET = "s3cr3t-value-that-must-never-show";

// The ingest API through app.inject() and over a real socket (system.api uses fetch).
describe("ingest API", () => {
  let system: System;
  let receiver: Receiver;
  let hookId: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    system = await startSystem({
      label: "api",
      env: { HOOKWIRE_API_KEYS: `${INGEST_KEY}=ingest,${READ_KEY}=read`, HOOKWIRE_BODY_LIMIT_BYTES: "65536" },
    });
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "api test",
      formVariables: { url: receiver.url, secret: SECRET },
    });
    expect(created.status).toBe(201);
    hookId = created.json.id;
  });
  afterAll(async () => {
    await system?.close();
    await receiver?.close();
  });

  const inject = (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
    key = system.apiKey,
    headers = {},
  ) =>
    system.app.inject({
      method,
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  describe("entries", () => {
    test("accepts the template context shape and LaunchDarkly's REST entry, converted", async () => {
      const answer = await inject("POST", "/v1/entries", [
        entryFixture("flag-toggle", { _id: "shape-context" }),
        entryFixture("rest-flag-toggle"),
      ]);
      expect(answer.statusCode).toBe(202);
      const entries = answer.json().entries;
      expect(entries.map((e: any) => [e.id, e.hooks[0].outcome])).toEqual([
        ["shape-context", "queued"],
        ["rest-flag-toggle-0001", "queued"],
      ]);
      await receiver.waitFor((requests) =>
        requests.some((r) => JSON.parse(r.body)._id === "rest-flag-toggle-0001"),
      );
      // The generic webhook sends the standard payload: the REST entry as it was posted.
      const delivered = receiver.requests.find((r) => JSON.parse(r.body)._id === "rest-flag-toggle-0001")!;
      expect(delivered.body).toBe(JSON.stringify(entryFixture("rest-flag-toggle")));

      // Templates see it converted to the template context: the timestamp object, the project and
      // environment from its resource, the title as plain text.
      const preview = await inject("POST", "/v1/integrations/slack/preview", {
        entry: entryFixture("rest-flag-toggle"),
        formVariables: { webhookUrl: "https://hooks.slack.com/services/T/B/x" },
      });
      expect(preview.statusCode).toBe(200);
      const body = preview.json().body as string;
      expect(body).toContain("Ada Lovelace turned on the flag Checkout redesign in 'Production'");
      expect(body).toMatch(/2025-11-26/);
    });

    test("takes a batch and reports every entry", async () => {
      const batch = Array.from({ length: 50 }, (_, i) => entryFixture("flag-toggle", { _id: `batch-${i}` }));
      const answer = await inject("POST", "/v1/entries", batch);
      expect(answer.statusCode).toBe(202);
      expect(answer.json().entries).toHaveLength(50);
      expect(answer.json().entries.every((e: any) => e.hooks[0].outcome === "queued")).toBe(true);
    });

    test("reports a repeated entry id as a duplicate and queues nothing for it", async () => {
      const entry = entryFixture("flag-toggle", { _id: "dup-api" });
      await inject("POST", "/v1/entries", entry);
      const again = await inject("POST", "/v1/entries", [
        entry,
        entryFixture("flag-toggle", { _id: "dup-api-new" }),
      ]);
      expect(again.json().entries.map((e: any) => [e.id, e.duplicate])).toEqual([
        ["dup-api", true],
        ["dup-api-new", false],
      ]);
    });

    test("an Idempotency-Key replays the first answer for the whole request", async () => {
      const headers = { "idempotency-key": "request-0001" };
      const first = await inject(
        "POST",
        "/v1/entries",
        entryFixture("flag-toggle", { _id: "idem-1" }),
        undefined,
        headers,
      );
      const second = await inject(
        "POST",
        "/v1/entries",
        entryFixture("flag-toggle", { _id: "idem-2" }),
        undefined,
        headers,
      );
      expect(second.statusCode).toBe(202);
      expect(second.headers["idempotent-replayed"]).toBe("true");
      expect(second.json()).toEqual(first.json());
      const idem2 = await inject("GET", "/v1/deliveries?entryId=idem-2");
      expect(idem2.json().deliveries).toEqual([]);
    });

    test("lists every problem of a bad body with its JSON pointer, and accepts nothing", async () => {
      const answer = await inject("POST", "/v1/entries", [
        entryFixture("flag-toggle", { _id: "fine-but-refused" }),
        { timestamp: { milliseconds: 1 } },
        entryFixture("flag-toggle", { kind: 42, _id: "bad id with spaces" }),
      ]);
      expect(answer.statusCode).toBe(400);
      const { error } = answer.json();
      expect(error.code).toBe("API_ERR_BAD_REQUEST");
      const pointers = error.problems.map((p: any) => p.pointer);
      expect(pointers).toEqual(expect.arrayContaining(["/1/kind", "/2/kind", "/2/_id"]));
      expect((await inject("GET", "/v1/deliveries?entryId=fine-but-refused")).json().deliveries).toEqual([]);
    });

    test("every refusal is in the one envelope: unknown route, invalid JSON with its position, an unknown field named", async () => {
      const envelope = (body: any) => {
        expect(Object.keys(body)).toEqual(["error"]);
        expect(typeof body.error.code).toBe("string");
        expect(body.error.code).toMatch(/^API_ERR_/);
        expect(typeof body.error.message).toBe("string");
        return body.error;
      };
      const unknown = await inject("GET", "/v1/entry");
      expect(unknown.statusCode).toBe(404);
      expect(envelope(unknown.json())).toMatchObject({
        code: "API_ERR_NOT_FOUND",
        message: expect.stringContaining("GET /v1/entry"),
      });

      const broken = await system.app.inject({
        method: "POST",
        url: "/v1/entries",
        headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
        payload: '{"kind": "flag",}',
      });
      expect(broken.statusCode).toBe(400);
      expect(envelope(broken.json()).message).toMatch(/position 16/);

      const extra = await inject("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "x",
        formVariables: { url: receiver.url },
        colour: "red",
      });
      expect(extra.statusCode).toBe(400);
      expect(envelope(extra.json()).problems).toEqual([
        {
          pointer: "/colour",
          message:
            "is not a known field here (known: id, integration, name, on, formVariables, policy, delivery, oauth)",
        },
      ]);
      // A slip of a letter or two is answered with the field meant.
      const slip = await inject("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "x",
        formVariable: { url: receiver.url },
      });
      expect(envelope(slip.json()).problems).toEqual([
        { pointer: "/formVariable", message: 'is not a known field here; did you mean "formVariables"?' },
      ]);

      const huge = await inject(
        "POST",
        "/v1/entries",
        entryFixture("flag-toggle", { comment: "x".repeat(70_000) }),
      );
      expect(envelope(huge.json()).code).toBe("API_ERR_TOO_LARGE");

      // What the router refuses before any route, and methods no route has.
      const long = await inject("GET", `/v1/hooks/${"x".repeat(10_000)}`);
      expect(long.statusCode).toBe(414);
      expect(envelope(long.json()).message).not.toContain("xxxx");
      expect(envelope((await inject("GET", "/v1/hooks/%zz")).json()).code).toBe("API_ERR_BAD_REQUEST");
      for (const method of ["OPTIONS", "TRACE"] as const) {
        const answer = await system.app.inject({ method, url: "/v1/hooks" });
        expect(answer.statusCode, method).toBe(404);
        envelope(answer.json());
      }
    });

    test("answers 413 for a body over the limit and 415 for another content type", async () => {
      const huge = entryFixture("flag-toggle", { comment: "x".repeat(70_000) });
      expect((await inject("POST", "/v1/entries", huge)).statusCode).toBe(413);
      const text = await system.app.inject({
        method: "POST",
        url: "/v1/entries",
        headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "text/plain" },
        payload: "hello",
      });
      expect(text.statusCode).toBe(415);
    });

    test("refuses __proto__ keys without polluting anything", async () => {
      const answer = await system.app.inject({
        method: "POST",
        url: "/v1/entries",
        headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
        payload: '{"kind":"flag","timestamp":{"milliseconds":1},"__proto__":{"polluted":true}}',
      });
      expect(answer.statusCode).toBe(400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe("access", () => {
    test("401 without a key or with a wrong one; 403 for a missing scope", async () => {
      expect((await inject("GET", "/v1/hooks", undefined, "")).statusCode).toBe(401);
      expect((await inject("GET", "/v1/hooks", undefined, "not-a-key-at-all")).statusCode).toBe(401);
      expect((await inject("GET", "/v1/hooks", undefined, INGEST_KEY)).statusCode).toBe(403);
      expect(
        (await inject("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "scoped" }), INGEST_KEY))
          .statusCode,
      ).toBe(202);
      expect((await inject("GET", "/v1/hooks", undefined, READ_KEY)).statusCode).toBe(200);
      const write = await inject(
        "POST",
        "/v1/hooks",
        { integration: "generic-webhook", name: "x", formVariables: { url: receiver.url } },
        READ_KEY,
      );
      expect(write.statusCode).toBe(403);
      expect(write.json().error.message).toMatch(/admin/);
    });
  });

  describe("hooks", () => {
    test("GET /v1/hooks pages with limit and nextCursor, oldest first, each hook once; a cursor not its own is refused", async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        const answer = await inject("POST", "/v1/hooks", {
          integration: "generic-webhook",
          name: `paged ${i}`,
          on: false,
          formVariables: { url: receiver.url },
        });
        made.push(answer.json().id);
      }
      const everything = (await inject("GET", "/v1/hooks", undefined, READ_KEY)).json();
      expect(everything.nextCursor).toBeUndefined();
      const ids = everything.hooks.map((hook: { id: string }) => hook.id);
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const query = cursor === undefined ? "limit=2" : `limit=2&cursor=${cursor}`;
        const page = (await inject("GET", `/v1/hooks?${query}`, undefined, READ_KEY)).json();
        expect(page.hooks.length).toBeLessThanOrEqual(2);
        paged.push(...page.hooks.map((hook: { id: string; health: object }) => hook.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(paged).toEqual(ids);
      expect(new Set(ids.slice(-5))).toEqual(new Set(made));
      const bad = await inject("GET", "/v1/hooks?limit=2&cursor=not-ours", undefined, READ_KEY);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.problems).toEqual([expect.objectContaining({ pointer: "/cursor" })]);
      for (const id of made) expect((await inject("DELETE", `/v1/hooks/${id}`)).statusCode).toBe(204);
    });

    test("rejects form variables and policies that do not fit, with pointers", async () => {
      const answer = await inject("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "bad",
        formVariables: { secret: "x", colour: "blue" },
        policy: [{ effect: "allow", resources: ["proj/*:env/"], actions: ["*"] }],
      });
      expect(answer.statusCode).toBe(400);
      const pointers = answer.json().error.problems.map((p: any) => p.pointer);
      expect(pointers).toEqual(expect.arrayContaining(["/formVariables/url", "/formVariables/colour"]));
      expect(pointers.some((p: string) => p.startsWith("/policy/0/resources/0"))).toBe(true);
      const unknown = await inject("POST", "/v1/hooks", { integration: "no-such-thing", name: "x" });
      expect(unknown.json().error.problems[0].pointer).toBe("/integration");
    });

    test("a hook whose URL can only reach a private or metadata address is refused at creation, naming the variable", async () => {
      for (const url of [
        "http://10.0.0.5/in",
        "http://169.254.169.254/latest/meta-data",
        "http://168.63.129.16/",
      ]) {
        const answer = await inject("POST", "/v1/hooks", {
          integration: "generic-webhook",
          name: "inside",
          formVariables: { url },
        });
        expect(answer.statusCode, url).toBe(400);
        const [problem] = answer.json().error.problems;
        expect(problem.pointer).toBe("/formVariables/url");
        expect(problem.message).toMatch(/would never send there/);
      }
      // The same check on a change.
      const patched = await inject("PATCH", `/v1/hooks/${hookId}`, {
        formVariables: { url: "http://[fd00:ec2::254]/" },
      });
      expect(patched.statusCode).toBe(400);
      expect(patched.json().error.problems[0].message).toMatch(/metadata/);
    });

    test("never shows a secret: not in any answer, not in any log line", async () => {
      const answers = [
        await inject("GET", "/v1/hooks"),
        await inject("GET", `/v1/hooks/${hookId}`),
        await inject("PATCH", `/v1/hooks/${hookId}`, {
          name: "renamed",
          formVariables: { secret: "********" },
        }),
        await inject("POST", `/v1/hooks/${hookId}/test`),
        await inject("GET", `/v1/deliveries?hookId=${hookId}`),
        await inject("GET", "/docs/json", undefined, ""),
      ];
      for (const answer of answers) {
        expect(answer.statusCode).toBeLessThan(300);
        expect(answer.body).not.toContain(SECRET);
      }
      expect(answers[1]?.json().formVariables.secret).toBe("********");
      // "********" sent back kept the secret: the test call was signed with it.
      const tested = receiver.requests.at(-1)!;
      expect(tested.headers["x-ld-signature"]).toBeDefined();
      expect(answers[3]?.json()).toMatchObject({ ok: true, statusCode: 200 });
      expect(system.logLines.length).toBeGreaterThan(0);
      expect(system.logLines.join("\n")).not.toContain(SECRET);
      const raw = await system.redis.hget(keyspace(system.config.queuePrefix).hooks, hookId);
      expect(raw).not.toContain(SECRET);
    });

    test("PATCH on:false stops deliveries; DELETE removes the hook, its own index left to expire", async () => {
      const created = await inject("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "temp",
        formVariables: { url: receiver.url },
      });
      const id = created.json().id;
      const before = await inject("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "before-off" }));
      expect(before.json().entries[0].hooks.map((h: any) => h.hookId)).toContain(id);
      expect((await inject("PATCH", `/v1/hooks/${id}`, { on: false })).json().on).toBe(false);
      const posted = await inject("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "while-off" }));
      expect(posted.json().entries[0].hooks.map((h: any) => h.hookId)).not.toContain(id);
      expect((await inject("DELETE", `/v1/hooks/${id}`)).statusCode).toBe(204);
      expect((await inject("GET", `/v1/hooks/${id}`)).statusCode).toBe(404);
      expect(
        await system.redis.pttl(keyspace(system.config.queuePrefix).deliveriesByHook(id)),
      ).toBeGreaterThan(0);
    });
  });

  test("integrations are listed with their form variables and default policy", async () => {
    const list = (await inject("GET", "/v1/integrations")).json().integrations.map((i: any) => i.key);
    expect(list).toEqual(expect.arrayContaining(["generic-webhook", "slack"]));
    const one = (await inject("GET", "/v1/integrations/generic-webhook")).json();
    expect(one.formVariables.map((v: any) => v.key)).toEqual(["url", "secret"]);
    expect(one.defaultPolicy[0].resources).toEqual(["proj/*:env/*:flag/*"]);
  });

  test("previews what a hook would send, without sending it", async () => {
    const answer = await inject("POST", "/v1/integrations/generic-webhook/preview", {
      entry: entryFixture("flag-toggle", { _id: "preview-only" }),
      formVariables: { url: "https://example.com/in", secret: "preview-secret" },
    });
    expect(answer.statusCode).toBe(200);
    const preview = answer.json();
    expect(preview).toMatchObject({
      method: "POST",
      url: "https://example.com/in",
      template: "standard",
      warnings: [],
    });
    expect(JSON.parse(preview.body)._id).toBe("preview-only");
    expect(preview.headers).toContainEqual({
      name: "X-LD-Signature",
      value: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect((await inject("GET", "/v1/deliveries?entryId=preview-only")).json().deliveries).toEqual([]);

    const bad = await inject("POST", "/v1/integrations/generic-webhook/preview", {
      entry: { kind: "flag" },
      formVariables: { nope: "x" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.problems.map((p: any) => p.pointer)).toEqual(
      expect.arrayContaining(["/entry/timestamp"]),
    );
  });

  test("/docs is hookwire's: its title and its mark", async () => {
    const page = await inject("GET", "/docs/", undefined, "");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<title>hookwire API</title>");
    // The page's script puts hookwire's mark where Swagger's logo was.
    const script = await inject("GET", "/docs/static/swagger-initializer.js", undefined, "");
    const mark = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(script.body)?.[1] ?? "";
    expect(Buffer.from(mark, "base64").toString()).toContain("<title>hookwire</title>");
  });

  test("the OpenAPI document is valid and documents every route", async () => {
    const document = (await inject("GET", "/docs/json", undefined, "")).json();
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, ops]) =>
        Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    for (const route of [
      "POST /v1/entries",
      "POST /v1/hooks",
      "GET /v1/hooks",
      "GET /v1/hooks/{id}",
      "PATCH /v1/hooks/{id}",
      "DELETE /v1/hooks/{id}",
      "POST /v1/hooks/{id}/test",
      "POST /v1/hooks/{id}/replay",
      "GET /v1/hooks/{id}/oauth/start",
      "GET /v1/oauth/callback",
      "GET /v1/deliveries",
      "GET /v1/deliveries/{id}",
      "POST /v1/deliveries/{id}/retry",
      "GET /v1/integrations",
      "GET /v1/integrations/{key}",
      "POST /v1/integrations/{key}/preview",
      "GET /healthz",
      "GET /readyz",
    ]) {
      expect(documented, route).toContain(route);
    }
  });
});

describe("hooks file", () => {
  test("creates and updates hooks by id, with secrets from the environment", async () => {
    const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, {}));
    const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", "worker");
    const keys = keyspace(`hwtest-hooksfile-${process.pid}`);
    const store = new HookStore(redis, keys, new SecretBox("a".repeat(64)), { cacheMs: 0 });
    const file = join(tmpdir(), `hooks-${process.pid}.yaml`);
    writeFileSync(
      file,
      [
        "hooks:",
        "  - id: from-git",
        "    integration: generic-webhook",
        "    name: kept in git",
        "    formVariables:",
        "      url: https://example.com/hook",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hooks file's own ${ENV} syntax
        "      secret: ${HOOK_SECRET}",
      ].join("\n"),
    );
    try {
      expect(await applyHooksFile(file, catalog, store, { HOOK_SECRET: "from-env" })).toEqual({
        created: ["from-git"],
        updated: [],
      });
      expect((await store.get("from-git"))?.formVariables.secret).toBe("from-env");
      expect(await applyHooksFile(file, catalog, store, { HOOK_SECRET: "rotated" })).toEqual({
        created: [],
        updated: ["from-git"],
      });
      expect((await store.get("from-git"))?.formVariables.secret).toBe("rotated");

      const error = await applyHooksFile(file, catalog, store, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HooksFileError);
      expect((error as HooksFileError).problems).toEqual([
        "/hooks/0/formVariables/secret: environment variable HOOK_SECRET is not set",
      ]);
    } finally {
      await redis.del(keys.hooks, keys.hooksVersion);
      redis.disconnect();
    }
  });
});

describe("when Redis goes away", () => {
  test("POST /v1/entries fails fast with 503 and Retry-After, /readyz says why, and it recovers", async () => {
    const redisServer = await ownRedis();
    await redisServer.start();
    const redis = connectRedis(redisServer.url, "api");
    const config = (await import("@hookwire/config")).loadConfig({
      REDIS_URL: redisServer.url,
      HOOKWIRE_API_KEY: "outage-test-admin-key-padded",
      HOOKWIRE_SECRET_KEY: "b".repeat(64),
    });
    const app = await buildApp({ config, redis, catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, {})) });
    const post = () =>
      app.inject({
        method: "POST",
        url: "/v1/entries",
        headers: { authorization: "Bearer outage-test-admin-key-padded" },
        payload: entryFixture("flag-toggle", { _id: `outage-${Date.now()}` }),
      });
    try {
      await eventually(() => redis.status === "ready");
      expect((await post()).statusCode).toBe(202);

      await redisServer.stop();
      await eventually(() => redis.status !== "ready", 5_000, "the connection notices");
      const started = Date.now();
      const refused = await post();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBeDefined();
      const ready = await app.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().reason).toMatch(/Redis/);

      await redisServer.start();
      await eventually(
        async () => (await app.inject({ method: "GET", url: "/readyz" })).statusCode === 200,
        10_000,
        "recovery",
      );
      expect((await post()).statusCode).toBe(202);
    } finally {
      await app.close();
      redis.disconnect();
      await redisServer.stop();
    }
  });
});
