/**
 * The chaos harness's receiver, in a process of its own (forked by recorder.ts, talks over IPC).
 * One handler on every port it listens on; the path decides:
 * - `/ok/<anything>`: answers 200 once the body is in, and records the request under its
 *   `X-Hookwire-Delivery` header (the `_id` of the body when the header is missing): the first
 *   arrival's time and how many times it came, so repeats are counted, not recorded twice;
 * - `/hang/<anything>`: takes the request and never answers (a receiver that hangs);
 * - anything else: 404.
 * argv[2]: how many extra ports to open beside the main one (one origin per hanging hook).
 *
 * Messages in: `{ id, op: "reset" | "arrivals" | "counts" }`, `{ id, op: "nextArrival", timeoutMs }`.
 * First message out: `{ op: "ready", port, hangingPorts }`. Times are `Date.now()`, the clock
 * ingest stamps `acceptedAt` with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RecorderAnswer, RecorderRequest } from "./recorder-protocol";

/** Distinct deliveries kept at most (bounded memory: a few dozen bytes each). */
const MAX_DISTINCT = 2_000_000;

const index = new Map<string, number>();
let ids: string[] = [];
let firstAt: number[] = [];
let counts: number[] = [];
let requests = 0;
let hangingTotal = 0;
const hanging = new Set<ServerResponse>();
const arrivalWaiters = new Set<{ id: number; timer: NodeJS.Timeout }>();

function send(answer: RecorderAnswer): void {
  process.send?.(answer);
}

function record(deliveryId: string, at: number): void {
  requests++;
  const known = index.get(deliveryId);
  if (known !== undefined) counts[known]!++;
  else if (ids.length < MAX_DISTINCT) {
    index.set(deliveryId, ids.length);
    ids.push(deliveryId);
    firstAt.push(at);
    counts.push(1);
  }
  for (const waiter of arrivalWaiters) {
    clearTimeout(waiter.timer);
    send({ id: waiter.id, op: "arrived", at });
  }
  arrivalWaiters.clear();
}

/** The entry id of a body, for a request without the delivery header. */
function entryIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { _id?: unknown };
    return typeof parsed._id === "string" ? parsed._id : "";
  } catch {
    return "";
  }
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? "";
  if (path.startsWith("/hang/")) {
    hangingTotal++;
    request.resume();
    hanging.add(response);
    response.on("close", () => hanging.delete(response));
    return;
  }
  if (!path.startsWith("/ok/")) {
    request.resume();
    response.writeHead(404, { "content-length": "0" }).end();
    return;
  }
  const header = request.headers["x-hookwire-delivery"];
  const chunks: Buffer[] = [];
  if (typeof header !== "string") request.on("data", (chunk: Buffer) => chunks.push(chunk));
  else request.resume();
  request.on("end", () => {
    const at = Date.now();
    const id =
      typeof header === "string"
        ? header
        : `no-delivery-header:${entryIdOf(Buffer.concat(chunks).toString("utf8"))}`;
    record(id, at);
    response.writeHead(200, { "content-length": "0" }).end();
  });
}

function listen(): Promise<Server> {
  const server = createServer(handle);
  server.keepAliveTimeout = 30e3;
  // A hanging request is held for as long as the sender waits.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

process.on("message", (message: RecorderRequest) => {
  switch (message.op) {
    case "reset":
      index.clear();
      ids = [];
      firstAt = [];
      counts = [];
      requests = 0;
      hangingTotal = 0;
      for (const response of hanging) response.destroy();
      hanging.clear();
      send({ id: message.id, op: "done" });
      return;
    case "arrivals":
      send({ id: message.id, op: "arrivals", ids, firstAt, counts });
      return;
    case "counts":
      send({
        id: message.id,
        op: "counts",
        distinct: ids.length,
        requests,
        hanging: hangingTotal,
        hangingOpen: hanging.size,
      });
      return;
    case "nextArrival": {
      const waiter = {
        id: message.id,
        timer: setTimeout(() => {
          arrivalWaiters.delete(waiter);
          send({ id: message.id, op: "timeout" });
        }, message.timeoutMs),
      };
      arrivalWaiters.add(waiter);
      return;
    }
  }
});

// The harness going away takes the recorder with it.
process.on("disconnect", () => process.exit(0));

const extra = Math.max(0, Math.min(200, Number(process.argv[2] ?? 0) || 0));
const servers = await Promise.all(Array.from({ length: extra + 1 }, listen));
const ports = servers.map((server) => (server.address() as AddressInfo).port);
send({ op: "ready", port: ports[0]!, hangingPorts: ports.slice(1) });
