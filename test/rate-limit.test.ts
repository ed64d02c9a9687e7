import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type System, startSystem } from "./support/system";

const OTHER_KEY = "second-admin-key-00001";

describe("rate limit per API key", () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem({
      label: "ratelimit",
      worker: false,
      env: { HOOKWIRE_RATE_LIMIT_PER_MINUTE: "3", HOOKWIRE_API_KEYS: `${OTHER_KEY}=admin` },
    });
  });
  afterAll(async () => system?.close());

  test("answers 429 with Retry-After past the limit, counting each key apart, never health checks", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await system.api("GET", "/v1/integrations")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await system.api("GET", "/v1/integrations");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.json.error.message).toMatch(/rate limit/);

    const other = await system.api("GET", "/v1/integrations", undefined, {
      authorization: `Bearer ${OTHER_KEY}`,
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("x-ratelimit-remaining")).toBe("2");
    for (let i = 0; i < 5; i++) expect((await fetch(`${system.baseUrl}/healthz`)).status).toBe(200);
  });
});
