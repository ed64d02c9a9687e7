import { type ChildProcess, spawn } from "node:child_process";
import type { ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { keyspace } from "@hookwire/queue";
import { type DeliveryWorker, FIRST_WINDOW } from "@hookwire/worker";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver } from "./support/receiver";
import { testScope } from "./support/scope";
import type { System } from "./support/system";

// N workers act as one on a hook: its concurrency cap, its rate and its circuit are each one,
// whichever worker sends. Three workers share every hook here.

const WORKER_MAIN = fileURLToPath(new URL("../services/worker/src/main.ts", import.meta.url));
const scope = testScope();
const receiver = scope.receiver;

function system(label: string, env: Record<string, string> = {}): Promise<System> {
  return scope.system({ label, worker: false, env });
}

/** `count` workers in this process, each with its own connections, state and worker id. */
async function workers(sys: System, count: number): Promise<DeliveryWorker[]> {
  const started: DeliveryWorker[] = [];
  for (let i = 0; i < count; i++) started.push(await scope.worker(sys));
  return started;
}

async function hook(sys: System, url: string, delivery: Record<string, unknown>): Promise<string> {
  const created = await sys.api("POST", "/v1/hooks", {
    integration: "generic-webhook",
    name: "shared",
    formVariables: { url },
    delivery,
  });
  expect(created.status).toBe(201);
  return created.json.id as string;
}

async function post(sys: System, label: string, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) =>
    entryFixture("flag-toggle", { _id: `${label}-${i}` }),
  );
  for (let i = 0; i < entries.length; i += 100) {
    expect((await sys.api("POST", "/v1/entries", entries.slice(i, i + 100))).status).toBe(202);
  }
}

/** A receiver that answers each request after `holdMs`, counting how many it holds at once. */
async function slowReceiver(holdMs: number): Promise<Receiver & { maxInFlight(): number }> {
  let inFlight = 0;
  let max = 0;
  const rx = await receiver((_request, response: ServerResponse) => {
    inFlight++;
    max = Math.max(max, inFlight);
    setTimeout(() => {
      inFlight--;
      response.writeHead(200).end();
    }, holdMs);
  });
  return Object.assign(rx, { maxInFlight: () => max });
}

describe("three workers share one hook", () => {
  test("its concurrency cap holds across them: the receiver never has more in flight than the cap", async () => {
    const rx = await slowReceiver(30);
    const sys = await system("shared-cap");
    await hook(sys, rx.url, { concurrency: 4 });
    await workers(sys, 3);
    await post(sys, "cap", 150);
    await rx.waitFor((requests) => requests.length >= 150, 25_000);
    expect(rx.requests.length).toBe(150);
    expect(rx.maxInFlight()).toBeLessThanOrEqual(4);
    // And the cap is used, not starved: more than one request was in flight at a time.
    expect(rx.maxInFlight()).toBeGreaterThan(1);
  });

  test("its rate holds across them: over the run the receiver gets no more than rate × time + one burst", async () => {
    const rx = await receiver();
    const sys = await system("shared-rate");
    const rate = 20;
    await hook(sys, rx.url, { ratePerSecond: rate });
    await workers(sys, 3);
    const started = Date.now();
    await post(sys, "rate", 60);
    await rx.waitFor((requests) => requests.length >= 60, 20_000);
    const seconds = (rx.requests.at(-1)!.at - started) / 1000;
    // Three separate buckets would let 3 × 20 a second through: all 60 in about a second.
    expect(rx.requests.length).toBe(60);
    expect(60).toBeLessThanOrEqual(rate * seconds + rate);
    expect(seconds).toBeGreaterThan(1);
  });

  test("its circuit opens once: one probe per cool-down reaches the receiver, not one per worker", async () => {
    let failing = true;
    const rx = await receiver((_request, response) => {
      response.writeHead(failing ? 503 : 200).end();
    });
    const sys = await system("shared-circuit", {
      HOOKWIRE_CIRCUIT_FAILURES: "3",
      HOOKWIRE_CIRCUIT_OPEN_MS: "600",
      HOOKWIRE_RETRY_SCHEDULE: "0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05",
    });
    const hookId = await hook(sys, rx.url, { concurrency: 1 });
    await workers(sys, 3);
    await post(sys, "circuit", 30);
    const keys = keyspace(sys.config.queuePrefix);
    await eventually(
      async () => (await sys.redis.hget(keys.hookHealth(hookId), "circuit")) === "open",
      10_000,
      "the circuit open",
    );
    const atOpen = rx.requests.length;
    // Two cool-downs (600 ms, then 1 200 ms after the failed probe): two probes, whichever worker.
    await eventually(
      async () => Number((await sys.redis.hget(keys.hookHealth(hookId), "failedProbes")) ?? 0) >= 2,
      10_000,
      "two failed probes",
    );
    const probes = rx.requests.length - atOpen;
    expect(probes).toBeLessThanOrEqual(2);
    expect(probes).toBeGreaterThanOrEqual(1);
    failing = false;
    await eventually(
      async () => (await sys.redis.hget(keys.hookHealth(hookId), "circuit")) === "closed",
      15_000,
      "the circuit closed again",
    );
  });

  test("a worker killed while it holds a hook's slots: the next worker gets them and sends everything, and all are given back", async () => {
    let holding = true;
    const held: ServerResponse[] = [];
    const rx = await receiver((_request, response) => {
      if (holding) held.push(response);
      else response.writeHead(200).end();
    });
    const sys = await system("shared-kill", { HOOKWIRE_WORKER_LOCK_MS: "1000" });
    const hookId = await hook(sys, rx.url, { concurrency: 3, timeoutMs: 60_000 });
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx/esm"), WORKER_MAIN],
      {
        env: { ...process.env, ...sys.env, LOG_LEVEL: "warn", HOOKWIRE_WORKER_METRICS_PORT: "0" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    scope.defer(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    await post(sys, "kill", 10);
    // The dead-to-be worker holds all three slots, its first requests hanging at the receiver (a
    // hook that never answered has FIRST_WINDOW in flight).
    await rx.waitFor((requests) => requests.length === FIRST_WINDOW, 15_000);
    const keys = keyspace(sys.config.queuePrefix);
    const booked = await sys.redis.hgetall(keys.hookWorkers(hookId));
    const slots = Object.entries(booked).filter(([field]) => field.endsWith(":slots"));
    expect(slots.map(([, n]) => Number(n))).toEqual([3]);
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
    for (const response of held) response.destroy();
    holding = false;

    // A worker coming after takes the dead one's slots once its lease lapsed, and sends all ten.
    await workers(sys, 1);
    await rx.waitFor((requests) => new Set(requests.map((r) => JSON.parse(r.body)._id)).size === 10, 20_000);
    await eventually(
      async () => Object.keys(await sys.redis.hgetall(keys.hookWorkers(hookId))).length === 0,
      10_000,
      "every slot given back",
    );
  });
});
