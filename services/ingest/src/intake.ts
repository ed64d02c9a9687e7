import { randomUUID } from "node:crypto";
import type { Entry } from "@hookwire/entries";
import { bodyReadsSecrets, type Catalog, renderBody } from "@hookwire/manifest";
import { accessesOf } from "@hookwire/policy";
import {
  deliveryIdOf,
  type JobDelivery,
  type Keyspace,
  MAX_JOB_DELIVERIES,
  type OutboxBatch,
  type Partitions,
} from "@hookwire/queue";
import {
  type DeliveryRecord,
  type DeliveryWriter,
  encodeClaim,
  encodeTrace,
  type Hook,
  type HookStore,
  type RequestTrace,
  type TracedOutcome,
  takeLeases,
} from "@hookwire/store";
import type { ChainableCommander, Redis } from "ioredis";
import { ApiError } from "./errors";
import { HookPolicies } from "./hook-policies";
import type { HookReadiness } from "./hook-readiness";

export type HookOutcome = "queued" | "filtered" | "skipped" | "render_failed";

export interface HookResult {
  hookId: string;
  deliveryId?: string;
  outcome: HookOutcome;
  reason?: string;
  /** Filtered: the deny statement that refused the entry, or null when none allowed it. */
  statement?: number | null;
}

/** The trace's record of a hook's outcome (see the store's request-trace.ts). */
function traced(result: HookResult): TracedOutcome {
  switch (result.outcome) {
    case "queued":
      return { outcome: "queued" };
    case "filtered":
      return { outcome: "filtered", statement: result.statement ?? null };
    default:
      return { outcome: result.outcome, reason: result.reason ?? "" };
  }
}

/** Rewrites a key with the value it has, keeping its TTL: a write for WAIT to count, no change. */
const REWRITE_SCRIPT = `local value = redis.call("GET", KEYS[1])
if value then redis.call("SET", KEYS[1], value, "KEEPTTL") end
return 0`;

export interface EntryResult {
  id: string;
  /** The entry id was seen within the idempotency window: nothing was queued again. */
  duplicate: boolean;
  hooks: HookResult[];
}

/** Told of each accepted request once its deliveries are in Redis (metrics, stats); must not throw. */
export interface IntakeObserver {
  accepted(results: readonly EntryResult[]): void;
}

export interface IntakeOptions {
  redis: Redis;
  /** The installation's own keys (partition 0's): entry claims and request traces. */
  keys: Keyspace;
  hooks: HookStore;
  partitions: Partitions;
  /** `writers[i]`: the write path of partition i. */
  writers: readonly DeliveryWriter[];
  catalog: Catalog;
  idempotencyWindowMs: number;
  /** How long an entry id stays leased to a request that died while accepting it. */
  claimLeaseMs: number;
  observer?: IntakeObserver;
  /** Which hooks answer now: their deliveries are committed and relayed first. */
  readiness?: HookReadiness;
}

/** The record of a delivery as ingest leaves it. */
function acceptedRecord(
  deliveryId: string,
  hookId: string,
  entryId: string,
  acceptedAt: number,
  status: DeliveryRecord["status"],
  templateKey: string,
  reason?: string,
): DeliveryRecord {
  const record: DeliveryRecord = {
    id: deliveryId,
    hookId,
    entryId,
    status,
    templateKey,
    acceptedAt,
    updatedAt: acceptedAt,
    attempts: [],
  };
  if (reason !== undefined) record.reason = reason;
  return record;
}

/** A 409 naming the entries another request is accepting right now. */
function inProgress(entries: readonly Entry[], busy: readonly number[]): ApiError {
  return new ApiError(
    "API_ERR_IN_PROGRESS",
    `${busy.length} entr${busy.length === 1 ? "y is" : "ies are"} being accepted by another request; nothing was accepted, retry shortly`,
    {
      retryAfterSeconds: 1,
      problems: busy.map((i) => ({
        pointer: entries.length === 1 ? "/_id" : `/${i}/_id`,
        message: `entry ${entries[i]?._id} is being accepted by another request`,
      })),
    },
  );
}

/**
 * Packs batches smaller than a job's worth into shared jobs (`<prefix>-<k>`), in order, each of
 * up to MAX_JOB_DELIVERIES deliveries; a batch alone in its job keeps a job of its own.
 */
function shareJobs(batches: readonly OutboxBatch[], prefix: string): void {
  let job: OutboxBatch[] = [];
  let size = 0;
  let k = 0;
  const close = () => {
    if (job.length > 1) {
      const id = `${prefix}-${k++}`;
      for (const batch of job) batch.job = id;
    }
    job = [];
    size = 0;
  };
  for (const batch of batches) {
    const n = batch.data.deliveries.length;
    if (size + n > MAX_JOB_DELIVERIES) close();
    job.push(batch);
    size += n;
  }
  close();
}

/** What routing left for one commit: records, and each hook's deliveries to queue. */
interface Routed {
  records: DeliveryRecord[];
  byHook: Map<string, JobDelivery[]>;
  /** The hooks among them that deliver in order (their batches go to their sequences). */
  ordered: Set<string>;
}

function merged(a: Routed, b: Routed): Routed {
  return {
    records: [...a.records, ...b.records],
    byHook: new Map([...a.byHook, ...b.byHook]),
    ordered: new Set([...a.ordered, ...b.ordered]),
  };
}

function routes(count: number): Routed[] {
  return Array.from({ length: count }, () => ({
    records: [],
    byHook: new Map(),
    ordered: new Set<string>(),
  }));
}

function isEmpty(routed: Routed): boolean {
  return routed.records.length === 0 && routed.byHook.size === 0;
}

/**
 * The batches of one commit of a request. Batch `<hookId>.<request><part>-<n>` holds up to
 * MAX_JOB_DELIVERIES deliveries of one hook; batches smaller than that share jobs of up to as
 * many in all (`req-<request><part>-<k>`): an entry that reaches 40 hooks costs the queue one job,
 * not 40, while a job never carries more work than one full batch (so the worker's job slots
 * still pace what it takes in).
 */
function batchesOf({ byHook, ordered }: Routed, request: string, part: string): OutboxBatch[] {
  const batches: OutboxBatch[] = [];
  const sequenced: OutboxBatch[] = [];
  for (const [hookId, deliveries] of byHook) {
    if (ordered.has(hookId)) {
      // Into the hook's sequence whole: no job, so no batch size to keep to.
      sequenced.push({ id: `${hookId}.${request}${part}`, data: { hookId, deliveries }, ordered: true });
      continue;
    }
    for (let i = 0; i < deliveries.length; i += MAX_JOB_DELIVERIES) {
      batches.push({
        id: `${hookId}.${request}${part}-${i / MAX_JOB_DELIVERIES}`,
        data: { hookId, deliveries: deliveries.slice(i, i + MAX_JOB_DELIVERIES) },
      });
    }
  }
  shareJobs(batches, `req-${request}${part}`);
  return sequenced.length === 0 ? batches : [...batches, ...sequenced];
}

/**
 * From accepted entries to queued deliveries: for each entry and each enabled hook, the policy
 * decides, the body is rendered, and the deliveries of the request are committed (batches of up
 * to MAX_JOB_DELIVERIES deliveries of one hook) with their records, in their hooks' partitions,
 * the entries' claims last.
 */
export class Intake {
  readonly #options: IntakeOptions;
  readonly #policies = new HookPolicies();

  constructor(options: IntakeOptions) {
    this.#options = options;
  }

  /**
   * Accepts the entries of one request: every entry id is leased first (a short lease, renewed
   * while this runs), then the deliveries are routed and rendered, then the records, the batches
   * that queue them and the promotion of the leases to claims are committed: one MULTI per
   * partition (a cluster keeps each in one slot), the claims in the last, partition 0's. With one
   * partition that is one MULTI; or two, when some hooks answer now and others do not: the ready
   * hooks' deliveries are committed and relayed first, the rest after, the claims last. A crash
   * before the claims are committed leaves leases, which lapse: the client's retry is processed
   * again (what was committed before is then delivered twice, never lost). An entry leased by a
   * request still under way is answered 409 (retry), never a duplicate.
   * `posted`: each entry as it was posted (same order), the body of standard-payload hooks.
   * `exclude`: a hook the entries never go to (an operational event's own hook). `observed:
   * false`: the observer is not told (hookwire's own events are not entries received).
   */
  async accept(
    entries: readonly Entry[],
    posted: readonly unknown[] = [],
    options: { exclude?: string; observed?: boolean } = {},
  ): Promise<EntryResult[]> {
    const { keys, writers, partitions, idempotencyWindowMs, claimLeaseMs } = this.#options;
    const acceptedAt = Date.now();
    const { states, lease } = await takeLeases(
      this.#options.redis,
      entries.map((entry) => keys.entrySeen(entry._id)),
      claimLeaseMs,
    );
    try {
      const busy = states.flatMap((state, i) => (state === "leased" ? [i] : []));
      if (busy.length > 0) throw inProgress(entries, busy);
      const enabled = await this.#options.hooks.enabled();
      const hooks =
        options.exclude === undefined ? enabled : enabled.filter((hook) => hook.id !== options.exclude);

      const request = randomUUID();
      const trace: RequestTrace = { at: acceptedAt, hooks: hooks.map((hook) => hook.id), entries: {} };
      const results: EntryResult[] = [];
      // Per partition, the deliveries of hooks that answer now (see HookReadiness) apart from
      // the others'.
      const { readiness } = this.#options;
      readiness?.refresh(hooks);
      const first = routes(partitions.count);
      const rest = routes(partitions.count);
      const routedOf = hooks.map((hook) => {
        const index = partitions.of(hook.id).index;
        return (readiness?.ready(hook.id) ? first[index] : rest[index]) as Routed;
      });
      for (const [index, entry] of entries.entries()) {
        if (states[index] !== "taken") {
          results.push({ id: entry._id, duplicate: true, hooks: [] });
          continue;
        }
        const accesses = accessesOf(entry);
        const hookResults: HookResult[] = [];
        const asPosted = posted[index];
        for (const [h, hook] of hooks.entries()) {
          hookResults.push(this.#route(hook, entry, asPosted, accesses, acceptedAt, routedOf[h] as Routed));
        }
        results.push({ id: entry._id, duplicate: false, hooks: hookResults });
        trace.entries[entry._id] = hookResults.map(traced);
      }

      // Waiting for replicas, an entry answered duplicate must be on them too: its claim may be
      // from a request that was answered 503 because its commit reached the master only. Writing
      // the claim again (same value and TTL, only where it still exists) makes this commit's
      // WAIT cover it, and with it everything written before it, that request's deliveries too.
      // Each claim holds the id of the request that accepted it, whose trace says what became of
      // the entry (GET /v1/entries/:id); both are kept for the window.
      const seen = (writers[0] as DeliveryWriter).waitsForReplicas
        ? entries.flatMap((entry, i) => (states[i] === "kept" ? [keys.entrySeen(entry._id)] : []))
        : [];
      const claims = (tx: ChainableCommander) => {
        if (Object.keys(trace.entries).length > 0) {
          tx.set(keys.requestTrace(request), encodeTrace(trace), "PX", idempotencyWindowMs);
        }
        lease.keep(tx, encodeClaim(request, acceptedAt), idempotencyWindowMs);
        for (const key of seen) tx.eval(REWRITE_SCRIPT, 1, key);
      };
      // The 202 waits for the commits, not for the relay into BullMQ: once committed, the
      // deliveries are in Redis whatever happens next (the outbox's sweepers relay what a crash
      // left behind). With ready hooks and others, the ready ones' deliveries are committed and
      // relayed first, the others' after: a crash in between leaves the first part queued and
      // the entries unclaimed, so the client's retry is accepted again (the first part is then
      // delivered twice, never lost). Likewise for the partitions committed before the claims.
      // Partition i's part of a phase, in its own MULTI (batch ids name the phase, and the
      // partition when there are several).
      const commit = (i: number, routed: Routed, phase: string, also?: (tx: ChainableCommander) => void) => {
        const part = partitions.count > 1 ? `${phase}p${i}` : phase;
        const change = { accepted: routed.records, batches: batchesOf(routed, request, part) };
        return (writers[i] as DeliveryWriter).commit(
          also === undefined ? change : { ...change, also },
          acceptedAt,
        );
      };
      const split = first.some((routed) => routed.byHook.size > 0) && rest.some((routed) => !isEmpty(routed));
      if (split) {
        // Committed and relayed (a relay's failure is the sweepers' to mend).
        await Promise.all(
          first.flatMap((routed, i) =>
            isEmpty(routed)
              ? []
              : [commit(i, routed, "a").then(({ relayed }) => relayed.catch(() => undefined))],
          ),
        );
      }
      const last = split ? rest : rest.map((routed, i) => merged(first[i] as Routed, routed));
      const phase = split ? "b" : "";
      await Promise.all(
        last.flatMap((routed, i) => (i === 0 || isEmpty(routed) ? [] : [commit(i, routed, phase)])),
      );
      await commit(0, last[0] as Routed, phase, claims);
      lease.end();
      if (options.observed !== false) this.#options.observer?.accepted(results);
      return results;
    } catch (error) {
      // Nothing was committed, or only partitions' deliveries before the claims (then delivered
      // twice, never lost): let the entries be posted again at once. Or the last commit reached the
      // master but too few replicas in time (STORE_ERR_NOT_REPLICATED, answered 503): the claims
      // replaced the leases there, so the release leaves them, and that is safe both ways. If
      // this master stays, a retry finds them and is answered duplicate only once its own WAIT
      // says the replicas hold them (see `seen` above), the first request's deliveries with them.
      // If it is lost, the claims, records and batches were on the old master only, all together
      // (one MULTI is replicated whole or not at all): the new master has none of them, and the
      // retry is accepted and queued again, a new delivery, never a duplicate answer for a loss.
      await lease.release();
      throw error;
    }
  }

  #route(
    hook: Hook,
    entry: Entry,
    posted: unknown,
    accesses: ReturnType<typeof accessesOf>,
    acceptedAt: number,
    routed: Routed,
  ): HookResult {
    const { byHook, records } = routed;
    const integration = this.#options.catalog.get(hook.integration);
    if (integration === undefined) {
      return {
        hookId: hook.id,
        outcome: "skipped",
        reason: `integration ${hook.integration} is not in the catalog`,
      };
    }
    if (!integration.deliverable) {
      return {
        hookId: hook.id,
        outcome: "skipped",
        reason: `integration ${hook.integration} cannot be delivered by hookwire`,
      };
    }
    let allowed: boolean;
    try {
      allowed = this.#policies.for(hook, integration).allowsAny(accesses);
    } catch (error) {
      return {
        hookId: hook.id,
        outcome: "skipped",
        reason: `the hook's policy is invalid: ${(error as Error).message}`,
      };
    }
    if (!allowed) {
      const statement = this.#policies.for(hook, integration).denyingStatement(accesses);
      return { hookId: hook.id, outcome: "filtered", statement };
    }

    const deliveryId = deliveryIdOf(hook.id, entry._id);
    // Built field by field, without closures or spreads: this runs for every entry and hook.
    let delivery: JobDelivery;
    try {
      const rendered = renderBody(
        integration,
        entry,
        hook.formVariables,
        typeof posted === "object" && posted !== null ? { posted } : undefined,
      );
      delivery = {
        id: deliveryId,
        entryId: entry._id,
        acceptedAt,
        attemptsMade: 0,
        templateKey: rendered.templateKey,
      };
      if (bodyReadsSecrets(integration, rendered.templateKey)) {
        // The body holds a secret: it is rendered again by the worker at send time, never queued.
        delivery.entry = entry;
      } else if (rendered.body === null) {
        const reason = "the template rendered an empty body";
        records.push(
          acceptedRecord(deliveryId, hook.id, entry._id, acceptedAt, "skipped", rendered.templateKey, reason),
        );
        return { hookId: hook.id, deliveryId, outcome: "skipped", reason };
      } else {
        delivery.body = rendered.body;
        if (integration.request.reads.entry) delivery.entry = entry;
      }
    } catch (error) {
      const reason = (error as Error).message;
      const failed = acceptedRecord(
        deliveryId,
        hook.id,
        entry._id,
        acceptedAt,
        "failed",
        "",
        `render failed: ${reason}`,
      );
      // Kept whole, so that a replay after the template is fixed can render it again.
      failed.payload = {
        id: deliveryId,
        entryId: entry._id,
        acceptedAt,
        attemptsMade: 0,
        templateKey: "",
        entry,
      };
      records.push(failed);
      return { hookId: hook.id, deliveryId, outcome: "render_failed", reason };
    }
    records.push(acceptedRecord(deliveryId, hook.id, entry._id, acceptedAt, "pending", delivery.templateKey));
    if (hook.delivery.ordering === "fifo") {
      delivery.at = entry.timestamp.milliseconds;
      routed.ordered.add(hook.id);
    }
    const list = byHook.get(hook.id) ?? [];
    if (list.length === 0) byHook.set(hook.id, list);
    list.push(delivery);
    return { hookId: hook.id, deliveryId, outcome: "queued" };
  }
}
