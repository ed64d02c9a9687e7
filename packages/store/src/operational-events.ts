/**
 * The one codec of hookwire's operational events: what happened to a hook (disabled, its circuit
 * opened, a delivery given up, ...), written by the process that saw it to its partition's stream
 * (`keyspace().events`, in the same MULTI as what caused it where there is one) and read by
 * ingest, which turns each into an entry of kind `hookwire` and delivers it like any other (see
 * ingest's operational-events.ts).
 *
 * Stream fields: `action`, `hookId`, `at` (epoch ms), `detail` (a sentence, no secret: reasons as
 * the delivery records keep them).
 */
import type { Keyspace } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";

/**
 * The events' actions: also the actions of the `hook` resource type in the policy package's
 * catalog (a test holds the two lists equal).
 */
export const OPERATIONAL_ACTIONS = [
  "hookDisabled",
  "hookRecovered",
  "hookCircuitOpened",
  "hookCircuitClosed",
  "deliveryExhausted",
  "oauthRefreshFailed",
] as const;

export type OperationalAction = (typeof OPERATIONAL_ACTIONS)[number];

export interface OperationalEvent {
  action: OperationalAction;
  hookId: string;
  at: number;
  detail: string;
}

/** Events kept unread at most (the stream is trimmed to about this many). */
const MAX_UNREAD = 10_000;

/** Adds the event's write to `tx` (a MULTI or pipeline on the partition of its hook). */
export function addEvent(tx: ChainableCommander, keys: Keyspace, event: OperationalEvent): void {
  tx.xadd(
    keys.events,
    "MAXLEN",
    "~",
    MAX_UNREAD,
    "*",
    "action",
    event.action,
    "hookId",
    event.hookId,
    "at",
    event.at,
    "detail",
    event.detail,
  );
}

/** Writes the event on its own, now (for an event that goes with no other write). */
export async function writeEvent(redis: Redis, keys: Keyspace, event: OperationalEvent): Promise<void> {
  const tx = redis.multi();
  addEvent(tx, keys, event);
  await tx.exec();
}

/** An event from a stream entry's flat field list; undefined for anything this codec did not write. */
export function decodeEvent(fields: readonly string[]): OperationalEvent | undefined {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  const action = record.action as OperationalAction;
  const at = Number(record.at);
  if (!OPERATIONAL_ACTIONS.includes(action) || !record.hookId || !Number.isFinite(at)) return undefined;
  return { action, hookId: record.hookId, at, detail: record.detail ?? "" };
}
