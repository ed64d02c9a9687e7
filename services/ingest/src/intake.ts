import type { Entry } from "@hookwire/entries";
import { bodyReadsSecrets, type Catalog, type Integration, renderBody } from "@hookwire/manifest";
import { accessesOf } from "@hookwire/policy";
import {
  DELIVERY_JOB_NAME,
  type DeliveryJobData,
  deliveryIdOf,
  type JobDelivery,
  type Keyspace,
} from "@hookwire/queue";
import type { DeliveryLog, DeliveryRecord, Hook, HookStore } from "@hookwire/store";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { HookPolicies } from "./hook-policies";

export type HookOutcome = "queued" | "filtered" | "skipped" | "render_failed";

export interface HookResult {
  hookId: string;
  deliveryId?: string;
  outcome: HookOutcome;
  reason?: string;
}

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
  keys: Keyspace;
  queue: Queue<DeliveryJobData>;
  hooks: HookStore;
  log: DeliveryLog;
  catalog: Catalog;
  idempotencyWindowMs: number;
  observer?: IntakeObserver;
}

/** Deliveries per job: enough to make queue round trips cheap, few enough to spread over workers. */
const DELIVERIES_PER_JOB = 25;

const readsEntry = new WeakMap<Integration, boolean>();

/** Does a URL or header template of the integration read the entry (`context`)? Asked per delivery. */
function requestReadsEntry(integration: Integration): boolean {
  let reads = readsEntry.get(integration);
  if (reads === undefined) {
    const texts = [integration.endpoint.url, ...integration.endpoint.headers.map((h) => h.value)];
    reads = texts.some((text) => text.includes("context"));
    readsEntry.set(integration, reads);
  }
  return reads;
}

/**
 * Claims entry ids in one command instead of one SET per entry (ioredis spent ~15 µs of ingest
 * CPU per entry on those commands).
 * KEYS: the entries' `entrySeen` keys. ARGV[1]: the idempotency window in ms.
 * Returns, per key, 1 where the key was set now (a new entry), 0 where it was there already.
 */
const CLAIM_SCRIPT = `local fresh = {}
for i, key in ipairs(KEYS) do
  fresh[i] = redis.call("SET", key, "1", "PX", ARGV[1], "NX") and 1 or 0
end
return fresh`;

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

/**
 * From accepted entries to queued deliveries: for each entry and each enabled hook, the policy
 * decides, the body is rendered, and all the deliveries of the request are queued together
 * (one addBulk, jobs of up to 25 deliveries of one hook) with their records in the same trip.
 */
export class Intake {
  readonly #options: IntakeOptions;
  readonly #policies = new HookPolicies();

  constructor(options: IntakeOptions) {
    this.#options = options;
  }

  async accept(entries: readonly Entry[]): Promise<EntryResult[]> {
    const { redis, keys, queue, log } = this.#options;
    const acceptedAt = Date.now();
    const fresh = await this.#claim(entries.map((entry) => entry._id));
    const hooks = await this.#options.hooks.enabled();

    const results: EntryResult[] = [];
    const records: DeliveryRecord[] = [];
    const byHook = new Map<string, JobDelivery[]>();
    for (const [index, entry] of entries.entries()) {
      if (!fresh[index]) {
        results.push({ id: entry._id, duplicate: true, hooks: [] });
        continue;
      }
      const accesses = accessesOf(entry);
      const hookResults: HookResult[] = [];
      for (const hook of hooks) {
        const result = this.#route(hook, entry, accesses, acceptedAt, byHook, records);
        hookResults.push(result);
      }
      results.push({ id: entry._id, duplicate: false, hooks: hookResults });
    }

    const jobs: { name: string; data: DeliveryJobData }[] = [];
    for (const [hookId, deliveries] of byHook) {
      for (let i = 0; i < deliveries.length; i += DELIVERIES_PER_JOB) {
        jobs.push({
          name: DELIVERY_JOB_NAME,
          data: { hookId, deliveries: deliveries.slice(i, i + DELIVERIES_PER_JOB) },
        });
      }
    }
    const pipeline = redis.pipeline();
    log.recordAccepted(pipeline, records);
    try {
      // Records and jobs leave together; the 202 waits for both, so an acknowledged entry is in Redis.
      const [written] = await Promise.all([
        pipeline.exec(),
        jobs.length > 0 ? queue.addBulk(jobs) : undefined,
      ]);
      const failed = written?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    } catch (error) {
      // Nothing was acknowledged: let the entries be posted again.
      const claimed = entries.filter((_, i) => fresh[i]).map((e) => keys.entrySeen(e._id));
      if (claimed.length > 0) await redis.del(...claimed).catch(() => undefined);
      throw error;
    }
    this.#options.observer?.accepted(results);
    return results;
  }

  /** Marks entry ids as seen; true where the id is new within the idempotency window. */
  async #claim(ids: readonly string[]): Promise<boolean[]> {
    const { redis, keys, idempotencyWindowMs } = this.#options;
    const answers = (await redis.eval(
      CLAIM_SCRIPT,
      ids.length,
      ...ids.map((id) => keys.entrySeen(id)),
      idempotencyWindowMs,
    )) as number[];
    return answers.map((answer) => answer === 1);
  }

  #route(
    hook: Hook,
    entry: Entry,
    accesses: ReturnType<typeof accessesOf>,
    acceptedAt: number,
    byHook: Map<string, JobDelivery[]>,
    records: DeliveryRecord[],
  ): HookResult {
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
    if (!allowed) return { hookId: hook.id, outcome: "filtered" };

    const deliveryId = deliveryIdOf(hook.id, entry._id);
    // Built field by field, without closures or spreads: this runs for every entry and hook.
    let delivery: JobDelivery;
    try {
      const rendered = renderBody(integration, entry, hook.formVariables);
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
        if (requestReadsEntry(integration)) delivery.entry = entry;
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
    const list = byHook.get(hook.id) ?? [];
    if (list.length === 0) byHook.set(hook.id, list);
    list.push(delivery);
    return { hookId: hook.id, deliveryId, outcome: "queued" };
  }
}
