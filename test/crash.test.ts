import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

const WORKER_MAIN = fileURLToPath(new URL("../services/worker/src/main.ts", import.meta.url));
const ENTRIES = 30;

/** A worker in a process of its own, so that it can be killed for real. */
function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), WORKER_MAIN], {
    env: { ...process.env, ...env, LOG_LEVEL: "warn", HOOKWIRE_WORKER_METRICS_PORT: "0" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

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
