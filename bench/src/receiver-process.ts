/**
 * The receiver, in a process of its own (forked by receiver.ts, talks over the IPC channel):
 * - a healthy endpoint that answers 200 with an empty body as soon as a request's body is in,
 *   counting requests and, while recording, each one's X-Hookwire-Delivery and arrival time;
 * - a dead endpoint that accepts connections and requests and never answers (isolation phase).
 *
 * Messages in: `{ id, op: "reset", record }`, `{ id, op: "wait", count, timeoutMs }`,
 * `{ id, op: "samples" }`, `{ id, op: "counts" }`. Every answer carries the request's `id`.
 * First message out: `{ op: "ready", port, deadPort }`. Arrival times are `Date.now()`, the
 * clock ingest stamps `acceptedAt` with.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceiverAnswer, ReceiverRequest } from "./receiver-protocol";

let count = 0;
/** Healthy requests since the process started: never reset, for the CPU-per-delivery figures. */
let total = 0;
let firstAt = 0;
let lastAt = 0;
let deadCount = 0;
let recording = false;
let ids: string[] = [];
let arrivals: number[] = [];
/** At most this many arrivals are kept while recording (bounded memory, 2 × 8 B + the id each). */
const MAX_SAMPLES = 2_000_000;

interface Waiter {
  id: number;
  count: number;
  timer: NodeJS.Timeout;
}
const waiters = new Set<Waiter>();

function send(answer: ReceiverAnswer): void {
  process.send?.(answer);
}

function settleWaiters(): void {
  for (const waiter of waiters) {
    if (count < waiter.count) continue;
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
    send({ id: waiter.id, op: "reached", count, firstAt, lastAt });
  }
}

const healthy = createServer((request: IncomingMessage, response: ServerResponse) => {
  request.on("end", () => {
    const now = Date.now();
    count++;
    total++;
    if (count === 1) firstAt = now;
    lastAt = now;
    if (recording && ids.length < MAX_SAMPLES) {
      const delivery = request.headers["x-hookwire-delivery"];
      ids.push(typeof delivery === "string" ? delivery : "");
      arrivals.push(now);
    }
    response.writeHead(200, { "content-length": "0" });
    response.end();
    if (waiters.size > 0) settleWaiters();
  });
  request.resume();
});
healthy.keepAliveTimeout = 30e3;

const hanging = new Set<ServerResponse>();
const dead = createServer((request: IncomingMessage, response: ServerResponse) => {
  deadCount++;
  request.resume();
  // Never answered; kept so that closing can end them.
  hanging.add(response);
  response.on("close", () => hanging.delete(response));
});
dead.requestTimeout = 0;
dead.headersTimeout = 0;

process.on("message", (message: ReceiverRequest) => {
  switch (message.op) {
    case "reset":
      count = 0;
      firstAt = 0;
      lastAt = 0;
      deadCount = 0;
      recording = message.record;
      ids = [];
      arrivals = [];
      send({ id: message.id, op: "done" });
      return;
    case "wait": {
      const waiter: Waiter = {
        id: message.id,
        count: message.count,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          send({ id: message.id, op: "timeout", count, firstAt, lastAt });
        }, message.timeoutMs),
      };
      waiters.add(waiter);
      settleWaiters();
      return;
    }
    case "samples":
      send({ id: message.id, op: "samples", ids, arrivals });
      return;
    case "counts":
      send({ id: message.id, op: "counts", count, total, deadCount, firstAt, lastAt });
      return;
  }
});

// The harness going away takes the receiver with it.
process.on("disconnect", () => process.exit(0));

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

const [port, deadPort] = await Promise.all([listen(healthy), listen(dead)]);
send({ op: "ready", port, deadPort });
