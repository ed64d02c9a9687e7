/**
 * What ingest puts on the delivery queue and the worker takes off it.
 *
 * A batch holds up to MAX_JOB_DELIVERIES deliveries of ONE hook (the entries of one ingest
 * request that the hook's policy allowed). A job stands for one batch, or for several small ones
 * of one request (up to MAX_JOB_DELIVERIES in all), so that the queue costs a few Redis round
 * trips per batch rather than per delivery or per hook. A delivery that needs another attempt
 * leaves its batch and is queued again on its own, delayed by the retry schedule.
 *
 * Nothing secret is ever in a job: URL and headers are rendered by the worker from the hook's
 * current settings, and a body whose template reads a secret form variable is rendered there too
 * (the job then carries the entry instead of the body).
 */
export interface JobDelivery {
  /** `${hookId}.${entryId}` (see deliveryIdOf): stable across attempts; receivers dedupe on it. */
  id: string;
  entryId: string;
  /** When ingest accepted the entry (epoch ms), for end-to-end latency. */
  acceptedAt: number;
  /** The entry's own time (epoch ms): kept for ordered hooks only, whose sequence it sorts. */
  at?: number;
  /** Attempts already made before this job runs (0 for a fresh delivery). */
  attemptsMade: number;
  /** The template that rendered the body, for the record. */
  templateKey: string;
  /** The rendered body; absent when the worker must render it (see `entry`). */
  body?: string;
  /** The entry, when the worker needs it: a body that reads secrets, or a URL/header that reads `context`. */
  entry?: Record<string, unknown>;
}

/**
 * The most deliveries a batch, or a job of many, holds. A job costs the worker about the same
 * whatever its size (BullMQ's fetch and completion, the batch's hold and its hook's slots, one
 * commit), so the bigger the batch the less each delivery pays: batches of 100 instead of 25
 * took a fifth off the worker's CPU per delivery and gave 1.2 times the deliveries a second
 * (`npm run compare`, drain, H=1 and H=10). The bound keeps a crash's repeats, and what one
 * worker takes in at once, to a request's worth.
 */
export const MAX_JOB_DELIVERIES = 100;

/** A batch of deliveries of one hook, as the outbox keeps it (outbox.ts). */
export interface DeliveryBatch {
  hookId: string;
  deliveries: JobDelivery[];
}

/**
 * What a BullMQ job of one batch carries: which hook, and how many deliveries its batch holds.
 * The deliveries themselves are in the outbox under the job's id, written once (the worker reads
 * them with the hold of its hand-over), so that no body is serialised and stored twice.
 */
export interface BatchJobData {
  hookId: string;
  size: number;
  /** Its batch's outbox lease lasts at least until then (epoch ms): see BatchRef.leasedUntil. */
  leasedUntil?: number;
  /** Jobs queued before the outbox carried their deliveries themselves. */
  deliveries?: JobDelivery[];
}

/** A batch named by a job of many: its id in the outbox, its hook and its size. */
export interface BatchRef {
  id: string;
  hookId: string;
  size: number;
  /**
   * The batch's outbox lease lasts at least until then (epoch ms), as it was when the job was
   * queued at once: every later write (a hold, a renewal, a sweep) only moves it on. Absent when
   * nothing is known (a delayed job, a job from before). A worker that parks the batch renews the
   * lease itself only when this is near (see processor.ts).
   */
  leasedUntil?: number;
}

/**
 * What a BullMQ job of many batches carries: small batches of one ingest request, one per hook,
 * up to MAX_JOB_DELIVERIES deliveries in all. An entry that fans out to 40 hooks then costs the
 * queue one job's round trips, not 40; the worker hands each batch to its own hook's gate (and
 * sends back, as a job of its own, any batch its hook cannot take now).
 */
export interface RequestJobData {
  batches: BatchRef[];
}

export type DeliveryJobData = BatchJobData | RequestJobData;

/** The batches a job stands for: its own (the job's id is the batch's), or those it names. */
export function batchRefsOf(jobId: string, data: DeliveryJobData): BatchRef[] {
  if ("batches" in data) return data.batches;
  const ref: BatchRef = { id: jobId, hookId: data.hookId, size: data.size ?? data.deliveries?.length ?? 0 };
  if (data.leasedUntil !== undefined) ref.leasedUntil = data.leasedUntil;
  return [ref];
}

/** Job name: one per kind of job, shown in the queue view. */
export const DELIVERY_JOB_NAME = "deliver";

/**
 * A delivery's id. Hook ids never contain a dot, so the first dot splits it again. (BullMQ job ids
 * may not contain ':', so neither may anything that goes into one.)
 */
export function deliveryIdOf(hookId: string, entryId: string): string {
  return `${hookId}.${entryId}`;
}

/** A job id for one attempt of one delivery: unique per attempt so an old job never blocks it. */
export function attemptJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}.attempt-${attempt}`;
}
