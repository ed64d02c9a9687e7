import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";
import { exited, logged, spawnWorker } from "./support/worker-process";

const ENTRIES = 30;

// At least once: a worker killed with SIGKILL in the middle of deliveries loses nothing; the
// next worker sends what the dead one held, once its lock expires.
describe("a worker killed mid-delivery", () => {
  let system: System;
  let receiver: Receiver;
  let first: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  let holding = true;

  beforeAll(async () => {
    // While `holding`, the receiver never answers: the first worker is stuck mid-delivery.
    receiver = await startReceiver((_request, response) => {
      if (!holding) response.writeHead(200).end();
    });
    system = await startSystem({ label: "crash", worker: false, env: { HOOKWIRE_WORKER_LOCK_MS: "1000" } });
  });

  afterAll(async () => {
    for (const child of [first, second]) child?.kill("SIGKILL");
    await Promise.all([first, second].filter((c) => c !== undefined).map((c) => exited(c!)));
    await system?.close();
    await receiver?.close();
  });

  test("every accepted entry is delivered by the worker that comes after", async () => {
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "held",
      formVariables: { url: receiver.url },
      delivery: { timeoutMs: 60_000 },
    });
    const entries = Array.from({ length: ENTRIES }, (_, i) =>
      entryFixture("flag-toggle", { _id: `crash-${i}` }),
    );
    const posted = await system.api("POST", "/v1/entries", entries);
    expect(posted.status).toBe(202);
    expect(
      posted.json.entries.every(
        (e: any) => e.hooks[0].outcome === "queued" && e.hooks[0].hookId === created.json.id,
      ),
    ).toBe(true);

    first = spawnWorker(system.env);
    await receiver.waitFor((requests) => requests.length >= 1, 20_000);
    first.kill("SIGKILL");
    await exited(first);

    holding = false;
    const releasedAt = Date.now();
    const seenBeforeRestart = new Set(receiver.requests.map((r) => JSON.parse(r.body)._id));
    second = spawnWorker(system.env);
    // Delivered: answered 200, which only requests after the release were.
    const delivered = () =>
      new Set(receiver.requests.filter((r) => r.at >= releasedAt).map((r) => JSON.parse(r.body)._id));
    await receiver.waitFor(() => entries.every((e) => delivered().has(e._id)), 30_000);
    expect(delivered().size).toBe(ENTRIES);
    // The entries the dead worker had started were sent again (at least once, never zero times).
    expect(seenBeforeRestart.size).toBeGreaterThan(0);
  });
});

// SIGTERM: stop taking work, let the attempts in flight finish, then exit.
describe("a worker sent SIGTERM", () => {
  let system: System;
  let receiver: Receiver;
  let worker: ChildProcess | undefined;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    // The receiver answers only when the test releases it, after the SIGTERM.
    receiver = await startReceiver((_request, response) => {
      release = () => response.writeHead(200).end();
    });
    system = await startSystem({ label: "sigterm", worker: false });
  });
  afterAll(async () => {
    worker?.kill("SIGKILL");
    if (worker) await exited(worker);
    await system?.close();
    await receiver?.close();
  });

  test("finishes the attempt in flight, takes nothing new, and exits 0", async () => {
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "slow",
      formVariables: { url: receiver.url },
      // However slow the machine, the held attempt must not time out before the test releases it.
      delivery: { timeoutMs: 60_000 },
    });
    const hookId = created.json.id;
    await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "in-flight" }));
    worker = spawnWorker(system.env, "info");
    await receiver.waitFor((requests) => requests.length === 1, 20_000);

    const code = new Promise<number | null>((resolve) => worker!.once("exit", (c) => resolve(c)));
    const stopping = logged(worker, "worker stopping");
    worker.kill("SIGTERM");
    await stopping;
    // Posted after the SIGTERM: the stopping worker must leave it for the next one.
    await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "after-sigterm" }));
    release?.();
    expect(await code).toBe(0);

    const inFlight = (await system.api("GET", `/v1/deliveries/${hookId}.in-flight`)).json;
    expect(inFlight.status).toBe("succeeded");
    expect(inFlight.attempts).toHaveLength(1);
    const after = (await system.api("GET", `/v1/deliveries/${hookId}.after-sigterm`)).json;
    expect(after.status).toBe("pending");
    expect(receiver.requests).toHaveLength(1);
  });
});
