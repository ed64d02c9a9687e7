import { attemptJobId, type OutboxBatch } from "@hookwire/queue";
import type { DeliveryRecord, DeliveryStatus } from "@hookwire/store";
import { ApiError } from "../errors";
import { type IngestLane, laneOf, type Services } from "../services";

const MAX_REPLAY = 10_000;

/** Queues one failed (or skipped) delivery again, for one more attempt. */
export async function retryDelivery(services: Services, record: DeliveryRecord): Promise<DeliveryRecord> {
  if (record.status !== "failed") {
    throw new ApiError(
      "API_ERR_CONFLICT",
      `delivery ${record.id} is ${record.status}; only failed deliveries can be retried`,
    );
  }
  const [queued] = await requeue(services, [record]);
  if (queued === undefined)
    throw new ApiError("API_ERR_CONFLICT", `delivery ${record.id} kept nothing to send again`);
  return queued;
}

/** Failed deliveries of a hook accepted since `since` (epoch ms), queued again unless dryRun. */
export async function replayFailed(services: Services, hookId: string, since: number, dryRun: boolean) {
  const chosen: DeliveryRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await services.log.list({ status: "failed", limit: 500, ...(cursor ? { cursor } : {}) });
    for (const record of page.deliveries) {
      if (record.hookId === hookId && record.acceptedAt >= since && record.payload !== undefined)
        chosen.push(record);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && chosen.length < MAX_REPLAY);
  const deliveryIds = chosen.slice(0, MAX_REPLAY).map((r) => r.id);
  if (!dryRun) await requeue(services, chosen.slice(0, MAX_REPLAY));
  return { dryRun, count: deliveryIds.length, deliveryIds };
}

/**
 * Queues failed deliveries again through the one write path, records and batches together: one
 * commit per partition of their hooks.
 */
async function requeue(services: Services, records: readonly DeliveryRecord[]): Promise<DeliveryRecord[]> {
  // An ordered hook's deliveries go back into its sequence, in their entries' order; so does the
  // delivery that holds a hook whose ordering was turned off since (staged again, it lets go).
  const ordered = new Set<string>();
  for (const hookId of new Set(records.map((record) => record.hookId))) {
    const fifo = (await services.hooks.get(hookId))?.delivery.ordering === "fifo";
    const sequences = laneOf(services, hookId).writer.outbox.sequences;
    const held = fifo ? undefined : await sequences.heldId(services.redis, hookId);
    if (fifo || (held !== undefined && records.some((record) => record.id === held))) ordered.add(hookId);
  }
  const queued: DeliveryRecord[] = [];
  for (const { partition, items } of services.partitions.group(records, (record) => record.hookId)) {
    queued.push(...(await requeueIn(services.lanes[partition.index] as IngestLane, items, ordered)));
  }
  return queued;
}

async function requeueIn(
  lane: IngestLane,
  records: readonly DeliveryRecord[],
  ordered: ReadonlySet<string>,
): Promise<DeliveryRecord[]> {
  const now = Date.now();
  const queued: DeliveryRecord[] = [];
  const updates: { record: DeliveryRecord; previous: DeliveryStatus }[] = [];
  const batches: OutboxBatch[] = [];
  for (const record of records) {
    if (record.payload === undefined) continue;
    const attemptsMade = record.attempts.length;
    const { payload: _payload, reason: _reason, ...rest } = record;
    const pending: DeliveryRecord = { ...rest, status: "pending", updatedAt: now };
    updates.push({ record: pending, previous: record.status });
    const batch: OutboxBatch = {
      id: `${attemptJobId(record.id, attemptsMade + 1)}-manual-${now}`,
      data: { hookId: record.hookId, deliveries: [{ ...record.payload, attemptsMade }] },
    };
    if (ordered.has(record.hookId)) batch.ordered = true;
    batches.push(batch);
    queued.push(pending);
  }
  if (batches.length === 0) return queued;
  await lane.writer.commit({ updates, batches }, now);
  return queued;
}
