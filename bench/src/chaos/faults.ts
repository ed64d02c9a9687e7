/**
 * The faults the chaos scenarios inject, each timed to hit work in progress, and what each left
 * that may legitimately be sent twice (`inFlightAtFault`, see accounting.ts and bench/README.md:
 * what the receiver had taken without a success in Redis, for the faults that stop the worker's
 * writes; the requests ingest had not answered, for the faults that stop ingest's):
 * - worker SIGKILL 0–20 ms after a delivery arrived at the receiver (the worker is mid-job), then
 *   a new worker;
 * - ingest SIGKILL 0–20 ms after the client sent a request (mid-request), then a new ingest;
 * - redis-server SIGKILL 0–20 ms after a request went out, down for a second, then started
 *   again on its AOF (same directory, same port);
 * - redis-server SIGSTOP 0–20 ms after a request went out, for 3 s, then SIGCONT.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expectedDeliveries, inFlightAtFault } from "./accounting";
import type { RetryingClient } from "./client";
import type { Recorder } from "./recorder";
import { succeededAmong, withFreshConnection } from "./records";
import type { ChaosSystem } from "./system";

export type FaultKind = "worker-kill" | "ingest-kill" | "redis-kill" | "redis-stop";

export interface FaultContext {
  system: ChaosSystem;
  recorder: Recorder;
  client: RetryingClient;
  hookIds: readonly string[];
}

export interface FaultReport {
  inFlight: number;
  /** One line for the log: what was hit, and how much was in flight. */
  note: string;
}

/** How long a fault waits for the work it is timed on (an arrival, a request) before it strikes anyway. */
const TRIGGER_TIMEOUT_MS = 5_000;
/**
 * The fault strikes up to this long after its trigger, to land anywhere inside a request's
 * handling (a batch of 50 is answered in ~20 ms on a 2-core machine: see the scenario's notes).
 */
const MAX_JITTER_MS = 20;
/** How long redis-server stays down after its SIGKILL, and frozen after its SIGSTOP. */
const REDIS_DOWN_MS = 1_000;
const REDIS_FROZEN_MS = 3_000;

/** The deliveries owed by the entries of every request the client has not had answered yet. */
function unansweredDeliveries(context: FaultContext): Set<string> {
  const entryIds = context.client.unanswered().flatMap((batch) => batch.entryIds);
  return expectedDeliveries(entryIds, context.hookIds);
}

async function afterTrigger(trigger: Promise<boolean>): Promise<{ waitedFor: boolean; jitterMs: number }> {
  const waitedFor = await trigger;
  const jitterMs = Math.floor(Math.random() * (MAX_JITTER_MS + 1));
  if (jitterMs > 0) await sleep(jitterMs);
  return { waitedFor, jitterMs };
}

export async function injectFault(kind: FaultKind, context: FaultContext): Promise<FaultReport> {
  const { system, recorder, client } = context;
  const { partitions } = system;
  const trigger =
    kind === "worker-kill"
      ? recorder.nextArrival(TRIGGER_TIMEOUT_MS).then((at) => at !== undefined)
      : client.nextSend(TRIGGER_TIMEOUT_MS);
  const { waitedFor, jitterMs } = await afterTrigger(trigger);
  const unanswered = unansweredDeliveries(context);
  const requests = client.unanswered().length;
  const timing = `${jitterMs} ms after ${kind === "worker-kill" ? "an arrival" : "a send"}${waitedFor ? "" : " (none came: struck anyway)"}, ${requests} request(s) unanswered`;
  let received: string[];
  let succeeded: Set<string>;
  switch (kind) {
    case "worker-kill":
      await system.kill("worker");
      received = (await recorder.arrivals()).ids;
      succeeded = await succeededAmong(system.inspect, partitions, received);
      await system.startWorker();
      break;
    case "ingest-kill":
      await system.kill("ingest");
      // The worker goes on recording what it sends: an ingest kill does not put that at risk.
      received = [];
      succeeded = new Set();
      await system.startIngest();
      break;
    case "redis-kill":
      await system.killRedis();
      await sleep(REDIS_DOWN_MS);
      received = (await recorder.arrivals()).ids;
      await system.startRedis();
      // Read before the services' connections are back: what the AOF kept of the successes.
      succeeded = await withFreshConnection(system.redisUrl, (redis) =>
        succeededAmong(redis, partitions, received),
      );
      break;
    case "redis-stop":
      system.redisServer.signal("SIGSTOP");
      await sleep(REDIS_FROZEN_MS);
      received = (await recorder.arrivals()).ids;
      system.redisServer.signal("SIGCONT");
      succeeded = await withFreshConnection(system.redisUrl, (redis) =>
        succeededAmong(redis, partitions, received),
      );
      break;
  }
  // A worker kill puts at risk only what the worker had sent (the client's requests go on), an
  // ingest kill only the requests it had not answered (received is left empty), a Redis fault both.
  const inFlight = inFlightAtFault(received, succeeded, kind === "worker-kill" ? [] : unanswered);
  return { inFlight, note: `${kind} ${timing}; ${inFlight} deliveries in flight` };
}
