import { createHmac, randomBytes } from "node:crypto";
import { keyspace } from "@hookwire/queue";
import { HookStore, SecretBox } from "@hookwire/store";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
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
