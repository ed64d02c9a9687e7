import type { ChildProcess } from "node:child_process";
import type { ServerResponse } from "node:http";
import { keyspace } from "@hookwire/queue";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import type { ReceivedRequest } from "./support/receiver";
import { eventually } from "./support/receiver";
import { testScope } from "./support/scope";
import type { System } from "./support/system";
import { exited, spawnWorker } from "./support/worker-process";

// Ordered delivery (`delivery.ordering: "fifo"`): a hook's entries go one at a time, in the order
// of the entries' time, across every worker; the next waits until the head succeeds, and a head
// that runs out of attempts holds the hook (until retried or skipped) or is skipped.

const scope = testScope();
const T0 = 1_764_115_200_000;

/** Entry `i` of a run: its time is T0 + i seconds, its id names it. */
function entry(run: string, i: number) {
  const ms = T0 + i * 1000;
  return entryFixture("flag-toggle", {
    _id: `${run}-${String(i).padStart(3, "0")}`,
    timestamp: {
      milliseconds: ms,
      seconds: Math.floor(ms / 1000),
      rfc3339: new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"),
      simple: "",
    },
  });
}

const idOf = (request: ReceivedRequest) => (JSON.parse(request.body) as { _id: string })._id;

/**
 * A receiver that counts the requests it has open at once (a request is open until its answer is
 * written or its connection closes) and answers each with `status(id, attempt)`.
 */
async function countingReceiver(status: (id: string, attempt: number) => number | undefined) {
  const tries = new Map<string, number>();
  const open = { now: 0, most: 0 };
  const succeeded: string[] = [];
  const receiver = await scope.receiver((request, response: ServerResponse) => {
    const id = idOf(request);
    const attempt = (tries.get(id) ?? 0) + 1;
    tries.set(id, attempt);
    open.now++;
    open.most = Math.max(open.most, open.now);
    response.on("close", () => open.now--);
    const code = status(id, attempt);
    if (code === undefined) return; // never answered: the worker holding it is killed
    if (code < 300) succeeded.push(id);
    // Answered on a later turn, so that a second request in flight would be seen.
    setImmediate(() => response.writeHead(code).end());
  });
  return { receiver, tries, open, succeeded };
}

async function orderedHook(
  sys: System,
  url: string,
  delivery: Record<string, unknown> = {},
): Promise<string> {
  const created = await sys.api("POST", "/v1/hooks", {
    integration: "generic-webhook",
    name: "ordered",
    formVariables: { url },
    delivery: { ordering: "fifo", ...delivery },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json.id as string;
}

const FAST_RETRIES = { HOOKWIRE_RETRY_SCHEDULE: "0.05,0.05" };

describe("ordered delivery", () => {
  test("with 3 workers and the 3rd entry failing twice, every entry arrives in time order and never two at once", async () => {
    const third = "fifo-002";
    const { receiver, tries, open, succeeded } = await countingReceiver((id, attempt) =>
      id === third && attempt <= 2 ? 500 : 200,
    );
    const sys = await scope.system({ label: "fifo", env: FAST_RETRIES });
    await scope.worker(sys);
    await scope.worker(sys);
    await orderedHook(sys, receiver.url);

    // Posted out of order, in two requests: the entries' times decide.
    const entries = Array.from({ length: 20 }, (_, i) => entry("fifo", i));
    const shuffled = [...entries.slice(0, 12)].reverse();
    expect((await sys.api("POST", "/v1/entries", shuffled)).status).toBe(202);
    expect((await sys.api("POST", "/v1/entries", entries.slice(12))).status).toBe(202);

    await receiver.waitFor(() => succeeded.length === entries.length, 20_000);
    expect(succeeded).toEqual(entries.map((e) => e._id));
    expect(tries.get(third)).toBe(3);
    expect(open.most).toBe(1);
  });

  test('onExhausted "hold" stops the hook on the failed head, its health says why, and a retry lets it go on', async () => {
    let healed = false;
    const { receiver, succeeded } = await countingReceiver((id) =>
      id === "hold-001" && !healed ? 500 : 200,
    );
    const sys = await scope.system({ label: "fifo-hold", env: FAST_RETRIES });
    const hookId = await orderedHook(sys, receiver.url, { onExhausted: "hold" });
    const entries = [0, 1, 2, 3].map((i) => entry("hold", i));
    expect((await sys.api("POST", "/v1/entries", entries)).status).toBe(202);

    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held !== null);
    const ordering = (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json;
    expect(ordering.held.deliveryId).toBe(`${hookId}.hold-001`);
    expect(ordering.held.reason).toMatch(/500/);
    expect(ordering.pending).toBe(3);
    const hook = (await sys.api("GET", `/v1/hooks/${hookId}`)).json;
    expect(hook.health.held.deliveryId).toBe(`${hookId}.hold-001`);
    const stats = (await sys.api("GET", "/v1/stats")).json;
    expect(stats.hooks.find((h: { id: string }) => h.id === hookId)).toMatchObject({
      orderedWaiting: 3,
      health: { held: { deliveryId: `${hookId}.hold-001` } },
    });
    // Held: the entries behind the head are not sent, whatever else the workers do meanwhile.
    const other = await scope.receiver();
    await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "other",
      formVariables: { url: other.url },
    });
    await sys.api("POST", "/v1/entries", entry("other", 9));
    await other.waitFor((requests) => requests.length === 1);
    expect(succeeded).toEqual(["hold-000"]);
    expect(receiver.requests.map(idOf).filter((id) => id === "hold-002")).toEqual([]);

    healed = true;
    const retried = await sys.api("POST", `/v1/hooks/${hookId}/ordering/retry`);
    expect(retried.status, JSON.stringify(retried.json)).toBe(202);
    await receiver.waitFor(() => succeeded.length === 4);
    expect(succeeded).toEqual(entries.map((e) => e._id));
    // The last answer's commit follows it.
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.pending === 0);
    expect((await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held).toBeNull();
    expect((await sys.api("GET", `/v1/deliveries/${hookId}.hold-001`)).json.status).toBe("succeeded");
    expect((await sys.api("POST", `/v1/hooks/${hookId}/ordering/retry`)).status).toBe(409);
  });

  test('onExhausted "skip" dead-letters the failed head and the next follows', async () => {
    const { receiver, succeeded } = await countingReceiver((id) => (id === "skip-001" ? 500 : 200));
    const sys = await scope.system({ label: "fifo-skip", env: FAST_RETRIES });
    const hookId = await orderedHook(sys, receiver.url, { onExhausted: "skip" });
    const entries = [0, 1, 2, 3].map((i) => entry("skip", i));
    expect((await sys.api("POST", "/v1/entries", entries)).status).toBe(202);

    await receiver.waitFor(() => succeeded.length === 3);
    expect(succeeded).toEqual(["skip-000", "skip-002", "skip-003"]);
    // Its three attempts all came before the next entry.
    const order = receiver.requests.map(idOf);
    expect(order.slice(0, 5)).toEqual(["skip-000", "skip-001", "skip-001", "skip-001", "skip-002"]);
    const failed = (await sys.api("GET", `/v1/deliveries/${hookId}.skip-001`)).json;
    expect(failed.status).toBe("failed");
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.pending === 0);
    expect((await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held).toBeNull();
  });

  test("skipping a held head through the API sends the next, and the skipped one stays replayable", async () => {
    const { receiver, succeeded } = await countingReceiver((id) => (id === "opskip-000" ? 500 : 200));
    const sys = await scope.system({ label: "fifo-opskip", env: FAST_RETRIES });
    const hookId = await orderedHook(sys, receiver.url);
    const entries = [0, 1].map((i) => entry("opskip", i));
    expect((await sys.api("POST", "/v1/entries", entries)).status).toBe(202);
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held !== null);

    const skipped = await sys.api("POST", `/v1/hooks/${hookId}/ordering/skip`);
    expect(skipped.status, JSON.stringify(skipped.json)).toBe(200);
    await receiver.waitFor(() => succeeded.length === 1);
    expect(succeeded).toEqual(["opskip-001"]);
    const record = (await sys.api("GET", `/v1/deliveries/${hookId}.opskip-000`)).json;
    expect(record.status).toBe("failed");
    expect(record.reason).toMatch(/skipped by an operator/);
    expect((await sys.api("POST", `/v1/hooks/${hookId}/ordering/skip`)).status).toBe(409);
  });

  test("a held hook deleted lets its sequence go: what waited is settled as failed, the hook was deleted", async () => {
    const { receiver } = await countingReceiver(() => 500);
    const sys = await scope.system({ label: "fifo-deleted", env: FAST_RETRIES });
    const hookId = await orderedHook(sys, receiver.url);
    expect(
      (
        await sys.api(
          "POST",
          "/v1/entries",
          [0, 1, 2].map((i) => entry("gone", i)),
        )
      ).status,
    ).toBe(202);
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held !== null);

    expect((await sys.api("DELETE", `/v1/hooks/${hookId}`)).status).toBe(204);
    for (const i of [1, 2]) {
      await eventually(
        async () => (await sys.api("GET", `/v1/deliveries/${hookId}.gone-00${i}`)).json.status === "failed",
      );
      expect((await sys.api("GET", `/v1/deliveries/${hookId}.gone-00${i}`)).json.reason).toBe(
        "the hook was deleted",
      );
    }
    const keys = keyspace(sys.config.queuePrefix);
    await eventually(async () => (await sys.redis.exists(keys.sequence(hookId))) === 0);
    expect(await sys.redis.hget(keys.hookHealth(hookId), "held")).toBeNull();
  });

  test("a held hook whose ordering was turned off since goes on when its delivery is retried", async () => {
    let healed = false;
    const { receiver, succeeded } = await countingReceiver((id) => (id === "off-000" && !healed ? 500 : 200));
    const sys = await scope.system({ label: "fifo-turned-off", env: FAST_RETRIES });
    const hookId = await orderedHook(sys, receiver.url);
    expect(
      (
        await sys.api(
          "POST",
          "/v1/entries",
          [0, 1].map((i) => entry("off", i)),
        )
      ).status,
    ).toBe(202);
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.held !== null);

    expect((await sys.api("PATCH", `/v1/hooks/${hookId}`, { delivery: {} })).status).toBe(200);
    healed = true;
    expect((await sys.api("POST", `/v1/hooks/${hookId}/ordering/retry`)).status).toBe(202);
    await receiver.waitFor(() => succeeded.length === 2);
    expect(succeeded).toEqual(["off-000", "off-001"]);
  });

  test("onExhausted is refused on a hook that is not ordered, at its pointer", async () => {
    const sys = await scope.system({ label: "fifo-refused", worker: false });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "unordered",
      formVariables: { url: "http://127.0.0.1:9/" },
      delivery: { onExhausted: "skip" },
    });
    expect(created.status).toBe(400);
    expect(created.json.error.problems).toContainEqual(
      expect.objectContaining({ pointer: "/delivery/onExhausted" }),
    );
  });

  test("an attempt lasting three leases keeps its lock, renewed: the other worker never sends beside it", async () => {
    const tries = new Map<string, number>();
    const open = { now: 0, most: 0 };
    const succeeded: string[] = [];
    const receiver = await scope.receiver((request, response) => {
      const id = idOf(request);
      tries.set(id, (tries.get(id) ?? 0) + 1);
      open.now++;
      open.most = Math.max(open.most, open.now);
      response.on("close", () => open.now--);
      succeeded.push(id);
      // The receiver is slow on the first entry: 3.5 leases of 1 s.
      if (id === "slow-000") setTimeout(() => response.writeHead(200).end(), 3_500);
      else setImmediate(() => response.writeHead(200).end());
    });
    const sys = await scope.system({ label: "fifo-renew", env: { HOOKWIRE_WORKER_LOCK_MS: "1000" } });
    await scope.worker(sys);
    const hookId = await orderedHook(sys, receiver.url, { timeoutMs: 60_000 });
    const entries = [0, 1].map((i) => entry("slow", i));
    expect((await sys.api("POST", "/v1/entries", entries)).status).toBe(202);
    await receiver.waitFor(() => succeeded.length === 2, 20_000);
    expect(succeeded).toEqual(["slow-000", "slow-001"]);
    expect(tries.get("slow-000")).toBe(1);
    expect(open.most).toBe(1);
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.pending === 0);
  });

  test("an attempt whose lock was taken from it is cut short and counted nowhere: the head goes again, the hook's health stays clean", async () => {
    const tries = new Map<string, number>();
    const cut: string[] = [];
    const receiver = await scope.receiver((request, response) => {
      const id = idOf(request);
      const attempt = (tries.get(id) ?? 0) + 1;
      tries.set(id, attempt);
      if (attempt > 1) return setImmediate(() => response.writeHead(200).end());
      // The first attempt hangs until the worker lets go of it.
      response.on("close", () => cut.push(id));
    });
    const sys = await scope.system({ label: "fifo-lost", env: { HOOKWIRE_WORKER_LOCK_MS: "1000" } });
    await scope.worker(sys);
    const hookId = await orderedHook(sys, receiver.url, { timeoutMs: 60_000 });
    expect((await sys.api("POST", "/v1/entries", [entry("lost", 0)])).status).toBe(202);
    await receiver.waitFor(() => tries.get("lost-000") === 1, 10_000);
    // Another worker's claim would take the lock once it lapsed: here it is taken at once.
    await sys.redis.del(keyspace(sys.config.queuePrefix).sequenceLock(hookId));
    await receiver.waitFor(() => cut.length === 1 && tries.get("lost-000") === 2, 20_000);
    let record: any;
    await eventually(async () => {
      record = (await sys.api("GET", `/v1/deliveries/${hookId}.lost-000`)).json;
      return record?.status === "succeeded";
    });
    // The attempt cut short is not one of the record's.
    expect(record.attempts).toHaveLength(1);
    const { health } = (await sys.api("GET", `/v1/hooks/${hookId}`)).json;
    expect(health).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
    expect(health.lastFailureAt).toBeUndefined();
  });

  test("a worker killed mid-attempt leaves the head to the next worker, never two in flight, and order holds", async () => {
    let hang = true;
    const { receiver, open, succeeded } = await countingReceiver((id) =>
      id === "kill-000" && hang ? undefined : 200,
    );
    const sys = await scope.system({
      label: "fifo-kill",
      worker: false,
      env: { HOOKWIRE_WORKER_LOCK_MS: "1000" },
    });
    const hookId = await orderedHook(sys, receiver.url, { timeoutMs: 60_000 });
    const entries = [0, 1, 2].map((i) => entry("kill", i));
    expect((await sys.api("POST", "/v1/entries", entries)).status).toBe(202);

    let first: ChildProcess | undefined = spawnWorker(sys.env);
    scope.defer(async () => {
      first?.kill("SIGKILL");
      if (first !== undefined) await exited(first);
    });
    await receiver.waitFor((requests) => requests.length === 1, 20_000);
    first.kill("SIGKILL");
    await exited(first);
    first = undefined;
    hang = false;
    await scope.worker(sys);
    await receiver.waitFor(() => succeeded.length === 3, 20_000);
    expect(succeeded).toEqual(entries.map((e) => e._id));
    expect(open.most).toBe(1);
    await eventually(async () => (await sys.api("GET", `/v1/hooks/${hookId}/ordering`)).json.pending === 0);
  });
});
