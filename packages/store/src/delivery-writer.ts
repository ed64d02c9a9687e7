/**
 * The one write path for deliveries. Intake, the worker's outcomes (retries and a probe's rest
 * among them), replay, manual retry and the sweeper all commit through `commit`: the delivery
 * records, the batches that queue them (the outbox) and whatever the caller adds (entry claims,
 * hook health, stats) go in ONE MULTI, so that either all of it is in Redis or none of it is; the
 * batches are relayed into BullMQ only after that (see @hookwire/queue's outbox.ts for why a
 * relay that never happens is still safe).
 */
import { defineScripts, type Outbox, type OutboxBatch, SEQUENCE_SCRIPTS } from "@hookwire/queue";
import type { ChainableCommander, Redis } from "ioredis";
import { type DeliveryLog, type DeliveryRecord, type DeliveryStatus, LOG_SCRIPTS } from "./delivery-log";
import { StoreError } from "./errors";
import { ReplicaWait, type ReplicaWaitOptions } from "./replica-wait";

export interface DeliveryCommit {
  /** Records of deliveries accepted now (intake): written and indexed. */
  accepted?: readonly DeliveryRecord[];
  /** New states of known deliveries, with the status each had before. */
  updates?: readonly { record: DeliveryRecord; previous?: DeliveryStatus | undefined }[];
  /** Batches to queue. */
  batches?: readonly OutboxBatch[];
  /** Batches to commit without queueing: a worker has them in hand (see the worker's processor). */
  held?: readonly OutboxBatch[];
  /** Ids of batches whose deliveries are all settled (or moved to `batches`). */
  settled?: readonly string[];
  /** More writes that must land with these (claims, health, stats). */
  also?: (tx: ChainableCommander) => void;
}

export interface DeliveryWriterOptions {
  /**
   * Each commit returns only once this many replicas hold it (Redis WAIT on the commit's own
   * connection, after the EXEC), and rejects with STORE_ERR_NOT_REPLICATED when fewer do within
   * the timeout: what ingest answers 202 then survives the master's loss.
   */
  replicas?: ReplicaWaitOptions | undefined;
}

export class DeliveryWriter {
  readonly #redis: Redis;
  readonly #log: DeliveryLog;
  readonly #outbox: Outbox;
  readonly #replicaWait: ReplicaWait | undefined;

  constructor(redis: Redis, log: DeliveryLog, outbox: Outbox, options: DeliveryWriterOptions = {}) {
    this.#redis = redis;
    // The records' writes, and the ordered hooks' sequences, go by SHA on the connection that
    // commits them (see LuaScript).
    defineScripts(redis, [...LOG_SCRIPTS, ...SEQUENCE_SCRIPTS]);
    this.#log = log;
    this.#outbox = outbox;
    const replicas = options.replicas;
    this.#replicaWait =
      replicas !== undefined && replicas.replicas > 0 ? new ReplicaWait(redis, replicas) : undefined;
  }

  get outbox(): Outbox {
    return this.#outbox;
  }

  /** Whether commits wait for replicas (see DeliveryWriterOptions.replicas). */
  get waitsForReplicas(): boolean {
    return this.#replicaWait !== undefined;
  }

  /**
   * Commits everything in one MULTI; rejects when it did not land (or, waiting for replicas, when
   * too few of them hold it). The batches' relay starts then and is returned: callers that answer
   * on commit need not wait for it.
   */
  async commit(change: DeliveryCommit, now = Date.now()): Promise<{ relayed: Promise<void> }> {
    const tx = this.#redis.multi();
    if (change.accepted !== undefined) this.#log.recordAccepted(tx, change.accepted);
    if (change.updates !== undefined) this.#log.recordUpdates(tx, change.updates);
    const batches = change.batches ?? [];
    this.#outbox.stage(tx, batches, now);
    if (change.held !== undefined) this.#outbox.stage(tx, change.held, now);
    this.#outbox.settle(tx, change.settled ?? []);
    change.also?.(tx);
    const written = await tx.exec();
    if (written === null) throw new Error("the delivery commit was aborted");
    const failed = written.find(([error]) => error !== null);
    if (failed) throw failed[0];
    const relayed = this.#outbox.relay(batches, now);
    // The relay's failure is the sweepers' to mend; it must not surface as unhandled.
    relayed.catch(() => undefined);
    if (this.#replicaWait !== undefined) {
      // Relayed all the same: if this master stays, the deliveries go out now rather than when a
      // sweeper finds them; if it is lost, they are lost with it, and the caller's retry (told
      // the commit failed) commits them again on the new master.
      const acknowledged = await this.#replicaWait.acknowledged();
      if (acknowledged < this.#replicaWait.replicas) {
        throw new StoreError(
          "STORE_ERR_NOT_REPLICATED",
          `${acknowledged} of the ${this.#replicaWait.replicas} replicas asked for acknowledged the commit within ${this.#replicaWait.timeoutMs} ms`,
        );
      }
    }
    return { relayed };
  }
}
