import { createHmac, randomBytes } from "node:crypto";
import { keyspace } from "@hookwire/queue";
import { HookStore, SecretBox } from "@hookwire/store";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import type { ReceivedRequest } from "./support/receiver";
import { uniquePrefix } from "./support/redis";
import { testScope } from "./support/scope";
import type { System } from "./support/system";

// HOOKWIRE_SECRET_KEY rotated as the README says, with entries posted all along: the services
// restarted with <new>,<old>, every hook sealed again (`hookwire secrets rotate` is HookStore's
// reseal), then restarted with <new> alone. Nothing posted is lost, and nothing is left under the
// old key.
const scope = testScope();

describe("rotating HOOKWIRE_SECRET_KEY", () => {
  test("loses no delivery and leaves no secret sealed under the old key", async () => {
    const rx = await scope.receiver();
    const prefix = uniquePrefix("rotation");
    const [oldKey, newKey] = [randomBytes(32).toString("hex"), randomBytes(32).toString("hex")];
    const start = (key: string, keepKeys: boolean) =>
      scope.system({
        label: "rotation",
        keepKeys,
        env: { HOOKWIRE_QUEUE_PREFIX: prefix, HOOKWIRE_SECRET_KEY: key },
      });
    const posted: string[] = [];
    const post = async (sys: System, label: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const entry = entryFixture("flag-toggle", { _id: `${label}-${i}` });
        expect((await sys.api("POST", "/v1/entries", entry)).status).toBe(202);
        posted.push(entry._id as string);
      }
    };

    const before = await start(oldKey, true);
    for (let n = 0; n < 3; n++) {
      const created = await before.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: `signed ${n}`,
        formVariables: { url: `${rx.url}/h${n}`, secret: `signing-secret-${n}` },
      });
      expect(created.status).toBe(201);
    }
    await post(before, "old-key", 5);

    // Step 1: restarted with the new key first and the old one after it.
    const both = await start(`${newKey},${oldKey}`, true);
    await before.close();
    // Step 2: every hook sealed again, while entries keep coming.
    const store = new HookStore(both.redis, keyspace(prefix), new SecretBox(`${newKey},${oldKey}`));
    const [resealed] = await Promise.all([store.reseal(), post(both, "during", 10)]);
    expect(resealed).toEqual({ hooks: 3, secrets: 3 });
    const oldId = new SecretBox(oldKey).sealingKeyId;
    const stored = Object.values(await both.redis.hgetall(keyspace(prefix).hooks));
    expect(stored).toHaveLength(3);
    expect(stored.join("\n")).not.toContain(`v2.${oldId}.`);
    expect(stored.join("\n")).toContain(`v2.${new SecretBox(newKey).sealingKeyId}.`);

    // Step 3: the old key dropped.
    const after = await start(newKey, false);
    await both.close();
    await post(after, "new-key", 5);

    const expected = posted.length * 3;
    await rx.waitFor((requests) => requests.length >= expected, 20_000);
    const arrived = new Set(rx.requests.map((r) => `${r.url} ${JSON.parse(r.body)._id}`));
    expect(arrived.size).toBe(expected);
    // Signed with each hook's own secret all along: the secret was opened at every step.
    for (const request of rx.requests) {
      const secret = `signing-secret-${request.url.slice(-1)}`;
      expect(request.headers["x-ld-signature"]).toBe(
        createHmac("sha256", secret).update(request.body).digest("hex"),
      );
    }
  }, 60_000);
});

// A hook's signing secret replaced with an overlap (PATCH rotateSecret): Standard Webhooks
// signatures carry both secrets' until it ends, X-LD-Signature the new one at once.
describe("rotating a hook's signing secret", () => {
  /** Standard Webhooks' signature of a request with `secret` (a plain secret: its UTF-8 bytes). */
  const standard = (secret: string, request: { headers: Record<string, unknown>; body: string }) =>
    `v1,${createHmac("sha256", secret)
      .update(`${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`)
      .digest("base64")}`;

  test("signs with the new and the old secret during the overlap, with the new one alone after it", async () => {
    const rx = await scope.receiver();
    const sys = await scope.system({ label: "rotate-secret" });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "signed",
      formVariables: { url: `${rx.url}/signed`, secret: "old-signing-secret" },
      delivery: { standardWebhooks: true },
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;

    const rotated = await sys.api("PATCH", `/v1/hooks/${id}`, {
      rotateSecret: { secret: "new-signing-secret", overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secretRotation).toEqual({
      key: "secret",
      rotatedAt: expect.any(String),
      until: expect.any(String),
    });
    expect(
      Date.parse(rotated.json.secretRotation.until) - Date.parse(rotated.json.secretRotation.rotatedAt),
    ).toBe(3_600_000);
    expect(JSON.stringify(rotated.json)).not.toMatch(/old-signing-secret|new-signing-secret/);
    expect(JSON.stringify(await sys.redis.hgetall(keyspace(sys.config.queuePrefix).hooks))).not.toMatch(
      /old-signing-secret|new-signing-secret/,
    );

    // Workers read a changed hook within their cache's time: entries are posted until one is
    // signed as the hook now says.
    let posted = 0;
    const firstSigned = async (signs: (request: ReceivedRequest) => boolean) => {
      for (let tries = 0; tries < 50; tries++) {
        const entry = entryFixture("flag-toggle", { _id: `rot-${posted++}` });
        expect((await sys.api("POST", "/v1/entries", entry)).status).toBe(202);
        await rx.waitFor((requests) => requests.length === posted);
        const request = rx.requests[posted - 1]!;
        if (signs(request)) return request;
      }
      throw new Error("no delivery was signed as the hook says");
    };
    const during = await firstSigned(
      (request) =>
        request.headers["webhook-signature"] ===
        `${standard("new-signing-secret", request)} ${standard("old-signing-secret", request)}`,
    );
    expect(during.headers["x-ld-signature"]).toBe(
      createHmac("sha256", "new-signing-secret").update(during.body).digest("hex"),
    );

    // A rotation with no overlap: the secret before it no longer signs.
    await sys.api("PATCH", `/v1/hooks/${id}`, {
      rotateSecret: { secret: "third-secret", overlapSeconds: 0 },
    });
    await firstSigned(
      (request) => request.headers["webhook-signature"] === standard("third-secret", request),
    );
  });

  test("is refused for an integration that signs nothing, and beside a change of the same secret", async () => {
    const sys = await scope.system({ label: "rotate-refused", worker: false });
    const slack = await sys.api("POST", "/v1/hooks", {
      integration: "slack",
      name: "chat",
      formVariables: { webhookUrl: "https://hooks.slack.com/services/T/B/x" },
    });
    expect(slack.status).toBe(201);
    const unsigned = await sys.api("PATCH", `/v1/hooks/${slack.json.id}`, { rotateSecret: { secret: "s" } });
    expect(unsigned.status).toBe(400);
    expect(unsigned.json.error.problems).toEqual([
      { pointer: "/rotateSecret", message: "integration slack signs no request: it has no secret to rotate" },
    ]);
    const signed = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "signed",
      formVariables: { url: "http://127.0.0.1:9/x", secret: "a-secret" },
    });
    const both = await sys.api("PATCH", `/v1/hooks/${signed.json.id}`, {
      rotateSecret: { secret: "b-secret" },
      formVariables: { secret: "c-secret" },
    });
    expect(both.status).toBe(400);
    expect(both.json.error.problems[0].pointer).toBe("/formVariables/secret");
  });
});
