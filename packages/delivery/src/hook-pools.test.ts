import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import type { AttemptResult, OutboundRequest } from "./attempt";
import { HookPools } from "./hook-pools";
import { createSender, type Sender } from "./sender";
import type { SenderConfig } from "./sender-config";
import {
  closedPort,
  type ReceivedRequest,
  type ReceiverOptions,
  startReceiver,
  type TestReceiver,
} from "./test-receiver";

// Connection budgets per hook, against real receivers on 127.0.0.1: what reaches the receiver and
// over which TCP connection is counted server-side; nothing here asserts a duration.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function sender(overrides: Partial<SenderConfig> = {}): Sender {
  const created = createSender({
    userAgent: "hookwire/0.0.0-test",
    allowPrivateNetworks: false,
    allowedNetworks: ["127.0.0.0/8"],
    ...overrides,
  });
  cleanups.push(() => created.destroy());
  return created;
}

async function receiver(
  handler: Parameters<typeof startReceiver>[0],
  options?: ReceiverOptions,
): Promise<TestReceiver> {
  const started = await startReceiver(handler, options);
  cleanups.push(() => started.close());
  return started;
}

function pools(options: ConstructorParameters<typeof HookPools>[0] = {}): HookPools {
  const created = new HookPools(options);
  cleanups.push(() => created.destroy());
  return created;
}

/** The n-th request of a hook: its delivery id is `<hookId>:<n>`, as the worker's are. */
function request(url: string, hookId: string, connections: number, n: number): OutboundRequest {
  return {
    url,
    method: "POST",
    headers: [],
    body: "{}",
    hookId,
    connections,
    deliveryId: `${hookId}:${n}`,
    attempt: 1,
    captureErrorBody: false,
  };
}

function sendMany(
  send: Sender,
  url: string,
  hookId: string,
  connections: number,
  count: number,
  extra: Partial<OutboundRequest> = {},
): Promise<AttemptResult>[] {
  return Array.from({ length: count }, (_, n) =>
    send.send({ ...request(url, hookId, connections, n), ...extra }),
  );
}

function hookOf(received: ReceivedRequest): string {
  return String(received.headers["x-hookwire-delivery"]).split(":")[0]!;
}

/** The server-side connections that carried a hook's requests. */
function connectionsOf(rx: TestReceiver, hookId: string): Set<number> {
  return new Set(rx.requests.filter((r) => hookOf(r) === hookId).map((r) => r.connection));
}

describe("connections are budgeted per hook", () => {
  test("every delivery of a healthy hook arrives and succeeds while another hook's path on the same origin never answers", async () => {
    const rx = await receiver((req, res) => {
      if (req.url === "/ok") res.end("ok");
      // /hang: taken, never answered.
    });
    const send = sender();
    // More hanging attempts than the old shared pool had sockets (32), with a budget of 2: they
    // can hold 2 connections and queue behind them, no more.
    const hanging = sendMany(send, `${rx.origin}/hang`, "dead", 2, 40, { timeoutMs: 600e3 });
    await expect.poll(() => rx.requests.filter((r) => r.url === "/hang").length).toBeGreaterThanOrEqual(2);

    // A finite attempt timeout, so that if the hooks shared sockets these would fail, not hang.
    const healthy = await Promise.all(sendMany(send, `${rx.origin}/ok`, "alive", 2, 50, { timeoutMs: 2e3 }));

    expect(healthy.map((result) => result.errorCode ?? result.status)).toEqual(Array(50).fill(200));
    const arrived = rx.requests.filter((r) => r.url === "/ok").map((r) => r.headers["x-hookwire-delivery"]);
    expect(new Set(arrived)).toEqual(new Set(Array.from({ length: 50 }, (_, n) => `alive:${n}`)));
    // The dead hook never got past its budget.
    expect(rx.requests.filter((r) => r.url === "/hang")).toHaveLength(2);
    expect(connectionsOf(rx, "dead").size).toBe(2);

    await send.destroy();
    const ended = await Promise.all(hanging);
    expect(new Set(ended.map((result) => result.errorCode))).toEqual(new Set(["DELIVERY_ERR_CLOSED"]));
  }, 15e3);

  test("a hook never holds more sockets to an origin than its budget, nor shares one with another hook", async () => {
    // Each answer a little later, so that every hook's attempts pile up on its sockets.
    const rx = await receiver((_req, res) => setTimeout(() => res.end("ok"), 5));
    const send = sender();
    const results = await Promise.all([
      ...sendMany(send, rx.origin, "small", 3, 30),
      ...sendMany(send, rx.origin, "large", 5, 30),
    ]);

    expect(results.map((result) => result.status)).toEqual(Array(60).fill(200));
    expect(connectionsOf(rx, "small").size).toBe(3);
    expect(connectionsOf(rx, "large").size).toBe(5);
    const small = connectionsOf(rx, "small");
    expect([...connectionsOf(rx, "large")].filter((id) => small.has(id))).toEqual([]);
    expect(rx.peakConnections()).toBe(8);
  });

  test("an attempt waiting for one of its hook's sockets still ends by its own deadline, unsent", async () => {
    const rx = await receiver(() => {});
    const send = sender();
    const holding = send.send(request(`${rx.origin}/hang`, "h", 1, 0));
    await expect.poll(() => rx.requests.length).toBe(1);

    const waiting = await send.send({ ...request(`${rx.origin}/hang`, "h", 1, 1), timeoutMs: 100 });
    expect(waiting.errorCode).toBe("DELIVERY_ERR_TIMEOUT");
    expect(waiting.errorMessage).toContain("within 100 ms (attempt timeout)");
    expect(rx.requests.map((r) => r.headers["x-hookwire-delivery"])).toEqual(["h:0"]);

    await send.destroy();
    expect((await holding).errorCode).toBe("DELIVERY_ERR_CLOSED");
    expect(rx.requests).toHaveLength(1);
  });

  test("a budget outside 1 to 1000 is refused before anything is sent", async () => {
    const rx = await receiver((_req, res) => res.end("ok"));
    const send = sender();
    for (const connections of [0, 1.5, 1001, Number.NaN]) {
      const result = await send.send(request(rx.origin, "h", connections, 1));
      expect(result.errorCode).toBe("DELIVERY_ERR_BAD_REQUEST");
      expect(result.errorMessage).toContain("connections must be an integer from 1 to 1000");
    }
    expect(rx.requests).toHaveLength(0);
  });
});

describe("hooks that stop sending hold nothing", () => {
  test("a hook's pool is closed and forgotten once its keep-alive sockets went idle", async () => {
    // No Keep-Alive hint from the receiver: the pool's own keepAliveTimeout closes the sockets.
    const rx = await receiver((_req, res) => res.end("ok"), { keepAliveTimeoutMs: 0 });
    const held = pools({ keepAliveTimeout: 50 });
    const first = held.acquire("h", 2, rx.origin);
    const response = await first.pool.request({ path: "/", method: "GET" });
    await response.body.dump();
    held.release(first);
    // The socket is still open (keep-alive): the hook keeps its pool for its next attempt.
    expect(held.size).toBe(1);
    expect(held.acquire("h", 2, rx.origin)).toBe(first);
    held.release(first);

    await expect.poll(() => held.size).toBe(0);
    expect(rx.openConnections()).toBe(0);
    await expect.poll(() => first.pool.destroyed).toBe(true);
    const next = held.acquire("h", 2, rx.origin);
    expect(next).not.toBe(first);
    held.release(next);
  });

  test("a hook whose connection failed holds nothing once its attempt is released", async () => {
    const port = await closedPort();
    const held = pools({ connectTimeout: 1e3 });
    const entry = held.acquire("h", 2, `http://127.0.0.1:${port}`);
    await expect(entry.pool.request({ path: "/", method: "GET" })).rejects.toThrow(/ECONNREFUSED/);
    held.release(entry);
    expect(held.size).toBe(0);
    await expect.poll(() => entry.pool.destroyed).toBe(true);
  });

  test("a new budget gives the hook new pools; the old one finishes its attempt in flight, then closes", async () => {
    const answers: ServerResponse[] = [];
    const rx = await receiver((_req, res) => answers.push(res));
    const held = pools();
    const old = held.acquire("h", 2, rx.origin);
    const inFlight = old.pool.request({ path: "/", method: "GET" });
    await expect.poll(() => answers.length).toBe(1);

    const current = held.acquire("h", 3, rx.origin);
    expect(current).not.toBe(old);
    expect(old.pool.closed).toBe(true);
    answers[0]!.end("late");
    const response = await inFlight;
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    held.release(old);
    await expect.poll(() => old.pool.destroyed).toBe(true);
    // Giving the old one back does not forget the new one.
    expect(held.size).toBe(1);
    held.release(current);
  });

  test("destroy after close aborts every hook's attempts, a replaced pool's among them", async () => {
    const rx = await receiver(() => {});
    const held = pools();
    const replaced = held.acquire("a", 1, rx.origin);
    const stuckReplaced = replaced.pool.request({ path: "/replaced", method: "GET" });
    await expect.poll(() => rx.requests.length).toBe(1);
    const current = held.acquire("a", 2, rx.origin);
    const stuckCurrent = current.pool.request({ path: "/current", method: "GET" });
    const other = held.acquire("b", 1, rx.origin);
    const stuckOther = other.pool.request({ path: "/other", method: "GET" });
    await expect.poll(() => rx.requests.length).toBe(3);
    const ended = Promise.allSettled([stuckReplaced, stuckCurrent, stuckOther]);

    const closing = held.close();
    await held.destroy();
    await closing;
    expect((await ended).map((settled) => settled.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect([replaced, current, other].map((entry) => entry.pool.destroyed)).toEqual([true, true, true]);
    expect(held.size).toBe(0);
    await expect.poll(() => rx.openConnections()).toBe(0);
  });

  test("the sender's close waits for every hook's attempts, then closes all their sockets", async () => {
    const rx = await receiver((_req, res) => setTimeout(() => res.end("ok"), 5));
    const send = sender();
    const inFlight = [...sendMany(send, rx.origin, "a", 2, 4), ...sendMany(send, rx.origin, "b", 2, 4)];
    await expect.poll(() => rx.requests.length).toBeGreaterThan(0);
    await send.close();
    expect((await Promise.all(inFlight)).map((result) => result.status)).toEqual(Array(8).fill(200));
    await expect.poll(() => rx.openConnections()).toBe(0);
  });
});
