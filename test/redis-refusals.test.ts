import { keyspace } from "@hookwire/queue";
import { encodeClaim } from "@hookwire/store";
import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { ownRedis } from "./support/redis-server";
import { testScope } from "./support/scope";

// A Redis that refuses writes (out of memory here) is answered 503 with Retry-After, in the one
// envelope, like a Redis that is away: the client retries, and nothing half-written stays.

const scope = testScope();

describe("a Redis that refuses writes", () => {
  test("out of memory: entries are answered 503 with Retry-After, then accepted once it has room", async () => {
    const server = await ownRedis();
    await server.start();
    scope.defer(() => server.stop());
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    scope.defer(async () => admin.disconnect());
    const rx = await scope.receiver();
    const sys = await scope.system({ label: "oom", env: { REDIS_URL: server.url } });
    expect(
      (
        await sys.api("POST", "/v1/hooks", {
          integration: "generic-webhook",
          name: "h",
          formVariables: { url: rx.url },
        })
      ).status,
    ).toBe(201);

    await admin.config("SET", "maxmemory-policy", "noeviction");
    await admin.config("SET", "maxmemory", "1");
    const entry = entryFixture("flag-toggle", { _id: "oom-0001" });
    const refused = await sys.api("POST", "/v1/entries", entry);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.json.error).toMatchObject({
      code: "API_ERR_UNAVAILABLE",
      message: expect.stringContaining("OOM"),
    });

    await admin.config("SET", "maxmemory", "0");
    const accepted = await sys.api("POST", "/v1/entries", entry);
    expect(accepted.status).toBe(202);
    expect(accepted.json.entries[0].duplicate).toBe(false);
    await rx.waitFor((requests) => requests.length === 1);
  });

  test("an error reply a retry would meet again is answered 500 with its code, not 503", async () => {
    const sys = await scope.system({ label: "wrongtype", worker: false });
    const keys = keyspace(sys.config.queuePrefix);
    // A delivery's bucket that holds something else than a hash.
    await sys.redis.set(keys.entrySeen("e-wrong"), encodeClaim("req", 1_000));
    await sys.redis.set(keys.deliveryBucket("hk_x", 10), "not a hash");
    const answer = await sys.api("GET", "/v1/deliveries/hk_x.e-wrong");
    expect(answer.status).toBe(500);
    expect(answer.headers.get("retry-after")).toBeNull();
    expect(answer.json.error).toEqual({
      code: "API_ERR_INTERNAL",
      message: expect.stringContaining("Redis answered WRONGTYPE"),
    });
    expect(sys.logLines.some((line) => line.includes("WRONGTYPE"))).toBe(true);
  });
});
