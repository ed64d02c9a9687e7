import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { type System, startSystem } from "./support/system";

const OTHER_KEY = "second-admin-key-00001-padded";

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

describe("back-pressure", () => {
  let system: System;
  beforeAll(async () => {
    // No worker: nothing drains the queue.
    system = await startSystem({
      label: "backpressure",
      worker: false,
      env: { HOOKWIRE_MAX_QUEUE_DEPTH: "2" },
    });
    await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "never drained",
      formVariables: { url: "http://127.0.0.1:9/never" },
    });
  });
  afterAll(async () => system?.close());

  test("answers 503 with Retry-After once the queue is deeper than the limit", async () => {
    let sequence = 0;
    let answer: Awaited<ReturnType<System["api"]>> | undefined;
    await eventually(
      async () => {
        answer = await system.api(
          "POST",
          "/v1/entries",
          entryFixture("flag-toggle", { _id: `pressure-${++sequence}` }),
        );
        return answer.status === 503;
      },
      10_000,
      "back-pressure",
    );
    expect(answer?.json.error.code).toBe("API_ERR_OVERLOADED");
    expect(answer?.headers.get("retry-after")).toBe("5");
    expect(await system.pendingJobs()).toBeGreaterThanOrEqual(2);
  });
});

describe("back-pressure from an ordered hook", () => {
  let system: System;
  beforeAll(async () => {
    // No worker: the ordered hook's sequence only grows, and no delivery of it is a job.
    system = await startSystem({
      label: "backpressure-fifo",
      worker: false,
      env: { HOOKWIRE_MAX_QUEUE_DEPTH: "5" },
    });
    await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "ordered, never drained",
      formVariables: { url: "http://127.0.0.1:9/never" },
      delivery: { ordering: "fifo" },
    });
  });
  afterAll(async () => system?.close());

  test("counts the deliveries waiting in its sequence: 503 once they pass the limit, with no job queued", async () => {
    let sequence = 0;
    let answer: Awaited<ReturnType<System["api"]>> | undefined;
    await eventually(
      async () => {
        answer = await system.api(
          "POST",
          "/v1/entries",
          entryFixture("flag-toggle", { _id: `fifo-pressure-${++sequence}` }),
        );
        return answer.status === 503;
      },
      10_000,
      "back-pressure from the sequence",
    );
    expect(answer?.json.error.code).toBe("API_ERR_OVERLOADED");
    expect(sequence).toBeGreaterThan(5);
    expect(await system.pendingJobs()).toBe(0);
  });
});
