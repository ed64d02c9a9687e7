import { keyspace } from "@hookwire/queue";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { redactHook } from "./hook";
import { HookStore } from "./hook-store";
import { generateSecretKey, SecretBox } from "./secret-box";

const redis = testRedis();
const prefix = uniquePrefix("hooks");
const keys = keyspace(prefix);
const box = new SecretBox(generateSecretKey());
const secrets = new Set(["apiKey"]);

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe("HookStore", () => {
  const store = new HookStore(redis, keys, box, { cacheMs: 0 });
  let id = "";

  beforeAll(async () => {
    const hook = await store.create(
      {
        integration: "datadog",
        name: "prod events",
        formVariables: { apiKey: "dd-secret-123", region: "eu" },
      },
      secrets,
    );
    id = hook.id;
  });

  test("keeps secret form variables encrypted in Redis and decrypted in memory", async () => {
    const raw = await redis.hget(keys.hooks, id);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain("dd-secret-123");
    expect(raw).toContain("eu");
    const hook = await store.get(id);
    expect(hook?.formVariables.apiKey).toBe("dd-secret-123");
    expect(hook?.secretKeys).toEqual(["apiKey"]);
  });

  test("changes made at once all land: each is applied to what the one before wrote", async () => {
    const hook = await store.create({ integration: "datadog", name: "n", formVariables: {} }, secrets);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.update(hook.id, (current) => ({ ...current, name: `${current.name}x` })),
      ),
    );
    const after = await store.get(hook.id);
    expect(after?.name).toBe(`n${"x".repeat(10)}`);
    expect(after?.revision).toBe(11);
  });

  test("redacts secrets for answers", async () => {
    const hook = await store.get(id);
    const shown = redactHook(hook!);
    expect(JSON.stringify(shown)).not.toContain("dd-secret-123");
    expect(shown.formVariables.apiKey).toBe("********");
    expect(shown.formVariables.region).toBe("eu");
  });

  test("refuses a second hook with the same id, and ids that would break delivery ids", async () => {
    await expect(
      store.create({ id, integration: "x", name: "x", formVariables: {} }, secrets),
    ).rejects.toMatchObject({
      code: "STORE_ERR_CONFLICT",
    });
    await expect(
      store.create({ id: "a.b", integration: "x", name: "x", formVariables: {} }, secrets),
    ).rejects.toMatchObject({
      code: "STORE_ERR_BAD_ID",
    });
  });

  test("another store instance sees an update once the version moves", async () => {
    const other = new HookStore(redis, keys, box, { cacheMs: 0 });
    expect((await other.get(id))?.on).toBe(true);
    const updated = await store.update(id, (hook) => ({ ...hook, on: false }));
    expect(updated.revision).toBe(2);
    expect((await other.get(id))?.on).toBe(false);
    expect((await other.enabled()).map((h) => h.id)).not.toContain(id);
  });

  test("put creates by id and then replaces settings, keeping createdAt", async () => {
    const first = await store.put(
      { id: "from-file", integration: "generic-webhook", name: "a", formVariables: {} },
      secrets,
    );
    expect(first.created).toBe(true);
    const second = await store.put(
      { id: "from-file", integration: "generic-webhook", name: "b", formVariables: { apiKey: "k2" } },
      secrets,
    );
    expect(second.created).toBe(false);
    expect(second.hook.name).toBe("b");
    expect(second.hook.createdAt).toBe(first.hook.createdAt);
    expect((await store.get("from-file"))?.formVariables.apiKey).toBe("k2");
  });

  describe("put again with the OAuth tokens given before (a hooks file at each start)", () => {
    const given = {
      grant: "token" as const,
      accessToken: "at-given",
      refreshToken: "rt-given",
      tokenUrl: "https://idp.example/token",
      clientId: "client-1",
      baseURI: "https://api.example",
    };
    const hookOf = (oauth: typeof given | Record<string, unknown>) => ({
      id: "oauth-file",
      integration: "appdynamics",
      name: "n",
      formVariables: {},
      oauth: oauth as typeof given,
    });

    test("keeps the tokens a refresh stored since, which the given refresh token no longer is", async () => {
      await store.put(hookOf(given), secrets);
      await store.keepOAuthToken("oauth-file", {
        accessToken: "at-2",
        refreshToken: "rt-2",
        expiresAt: Date.parse("2030-01-01T00:00:00Z"),
      });
      const { hook } = await store.put(hookOf({ ...given, scope: "read" }), secrets);
      expect(hook.oauth).toMatchObject({
        accessToken: "at-2",
        refreshToken: "rt-2",
        expiresAt: "2030-01-01T00:00:00.000Z",
        scope: "read",
      });
      expect((await store.get("oauth-file"))?.oauth).toMatchObject({ refreshToken: "rt-2", scope: "read" });
    });

    test("takes new tokens given, and given ones of another client", async () => {
      const renewed = await store.put(hookOf({ ...given, refreshToken: "rt-new" }), secrets);
      expect(renewed.hook.oauth).toMatchObject({ accessToken: "at-given", refreshToken: "rt-new" });
      await store.keepOAuthToken("oauth-file", {
        accessToken: "at-3",
        refreshToken: "rt-3",
        expiresAt: undefined,
      });
      const other = await store.put(
        hookOf({ ...given, refreshToken: "rt-new", clientId: "client-2" }),
        secrets,
      );
      expect(other.hook.oauth).toMatchObject({ accessToken: "at-given", refreshToken: "rt-new" });
    });

    test("keeps the digest of what was given sealed in Redis and out of answers", async () => {
      const raw = (await redis.hget(keys.hooks, "oauth-file")) ?? "";
      const stored = JSON.parse(raw) as { oauthGiven?: string };
      const hook = await store.get("oauth-file");
      expect(hook?.oauthGiven).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(stored.oauthGiven).toBeDefined();
      expect(stored.oauthGiven).not.toBe(hook?.oauthGiven);
      expect(redactHook(hook!)).not.toHaveProperty("oauthGiven");
    });
  });

  test("delete removes the hook", async () => {
    expect(await store.delete("from-file")).toBe(true);
    expect(await store.get("from-file")).toBeUndefined();
    expect(await store.delete("from-file")).toBe(false);
  });
});
