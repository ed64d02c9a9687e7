/**
 * The one codec of a hook's health hash (`keyspace().hookHealth`): its circuit, shared by every
 * worker (written only by compare-and-set on `rev`, see the worker's hook-health.ts), and its
 * latest outcomes, shown by the API and the dashboard.
 *
 * Fields: `circuit` (closed | open | half_open), `consecutiveFailures`, `openedAt`, `failingSince`,
 * `probeAt`, `failedProbes` (epoch ms or counts; absent when unset), `rev` (bumped by every
 * circuit write), `lastSuccessAt`, `lastFailureAt`, `lastFailureReason`, `updatedAt`; and, for an
 * ordered hook held by a delivery, `held`, `heldReason`, `heldAt` (written by the queue's
 * sequence.ts scripts, which own them).
 */
import type { CircuitState } from "@hookwire/delivery";
import { type HeldHead, heldOf, type Partitions } from "@hookwire/queue";
import type { Redis } from "ioredis";

/** The circuit as stored: @hookwire/delivery's CircuitState, field for field. */
export type StoredCircuit = CircuitState;

export interface StoredHealth {
  circuit: StoredCircuit;
  /** The circuit's revision: 0 when never written. */
  rev: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastFailureReason?: string;
}

/** What the API shows of a hook's health. */
export interface HealthView {
  circuit: string;
  consecutiveFailures: number;
  lastSuccessAt?: string;
  lastFailureAt?: string;
  lastFailureReason?: string;
  /** An ordered hook stopped by a delivery that ran out of attempts (see @hookwire/queue's sequence.ts). */
  held?: HeldHead;
}

const CIRCUIT_STATES = new Set(["closed", "open", "half_open"]);
const OPTIONAL_NUMBERS = [
  "openedAt",
  "failingSince",
  "probeAt",
  "failedProbes",
] as const satisfies readonly (keyof CircuitState)[];

/** Field/value pairs as HGETALL answers them, flat (a script's answer) or as an object. */
type Raw = Record<string, string> | readonly (string | number)[];

function asRecord(raw: Raw | null | undefined): Record<string, string> {
  if (raw === null || raw === undefined) return {};
  if (!Array.isArray(raw)) return raw as Record<string, string>;
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) record[String(raw[i])] = String(raw[i + 1]);
  return record;
}

function numberOf(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function decodeHealth(raw: Raw | null | undefined): StoredHealth {
  const r = asRecord(raw);
  const state = CIRCUIT_STATES.has(r.circuit ?? "") ? (r.circuit as StoredCircuit["state"]) : "closed";
  const circuit: StoredCircuit = { state, consecutiveFailures: numberOf(r.consecutiveFailures) ?? 0 };
  for (const field of OPTIONAL_NUMBERS) {
    const value = numberOf(r[field]);
    if (value !== undefined) circuit[field] = value;
  }
  const health: StoredHealth = { circuit, rev: numberOf(r.rev) ?? 0 };
  const lastSuccessAt = numberOf(r.lastSuccessAt);
  const lastFailureAt = numberOf(r.lastFailureAt);
  if (lastSuccessAt !== undefined) health.lastSuccessAt = lastSuccessAt;
  if (lastFailureAt !== undefined) health.lastFailureAt = lastFailureAt;
  if (r.lastFailureReason) health.lastFailureReason = r.lastFailureReason;
  return health;
}

/** Every circuit field, unset ones as "" (so a write replaces what an older state had). */
export function encodeCircuit(circuit: StoredCircuit): (string | number)[] {
  const fields: (string | number)[] = [
    "circuit",
    circuit.state,
    "consecutiveFailures",
    circuit.consecutiveFailures,
  ];
  for (const field of OPTIONAL_NUMBERS) fields.push(field, circuit[field] ?? "");
  return fields;
}

export function healthView(raw: Raw | null | undefined): HealthView {
  const health = decodeHealth(raw);
  const view: HealthView = {
    circuit: health.circuit.state,
    consecutiveFailures: health.circuit.consecutiveFailures,
  };
  if (health.lastSuccessAt !== undefined) view.lastSuccessAt = new Date(health.lastSuccessAt).toISOString();
  if (health.lastFailureAt !== undefined) view.lastFailureAt = new Date(health.lastFailureAt).toISOString();
  if (health.lastFailureReason !== undefined) view.lastFailureReason = health.lastFailureReason;
  const held = heldOf(asRecord(raw));
  if (held !== undefined) view.held = held;
  return view;
}

/**
 * Each hook's health hash, in the order of `hookIds` (null where a read failed or none is kept):
 * one pipeline per partition, since a cluster's pipeline stays within one slot.
 */
export async function readHookHealth(
  redis: Redis,
  partitions: Partitions,
  hookIds: readonly string[],
): Promise<(Record<string, string> | null)[]> {
  const found = new Map<string, Record<string, string> | null>();
  await Promise.all(
    partitions
      .group(hookIds, (id) => id)
      .map(async ({ partition, items }) => {
        const pipeline = redis.pipeline();
        for (const id of items) pipeline.hgetall(partition.keys.hookHealth(id));
        const answers = (await pipeline.exec()) ?? [];
        items.forEach((id, i) => {
          const [error, raw] = answers[i] ?? [null, null];
          found.set(id, error ? null : (raw as Record<string, string>));
        });
      }),
  );
  return hookIds.map((id) => found.get(id) ?? null);
}
