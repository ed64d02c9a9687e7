/**
 * Which hooks are answering, as far as ingest can tell from their health (the workers write it):
 * a closed circuit and a success, recent, with no failure since. Intake commits the deliveries of
 * such hooks first, in a MULTI of their own, and relays them before it writes the rest (see
 * intake.ts): an entry that reaches one live hook and 40 dead ones gets to the live one about as
 * soon as it would alone, instead of after the dead ones' records and batches are written.
 *
 * Read in the background, at most once per `refreshMs`, in one pipeline per partition: a request never waits
 * for it, and a hook whose health is not known yet is simply not ready (its deliveries are
 * committed with the rest, as before).
 */
import type { Partitions } from "@hookwire/queue";
import { decodeHealth, readHookHealth } from "@hookwire/store";
import type { Redis } from "ioredis";

/** A success older than this says little of the receiver now. */
const READY_WITHIN_MS = 5 * 60_000;

export interface HookReadinessOptions {
  /** How often the health hashes are read again at most (default 1 s). */
  refreshMs?: number;
  now?: () => number;
}

export class HookReadiness {
  readonly #redis: Redis;
  readonly #partitions: Partitions;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #ready: ReadonlySet<string> = new Set();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  constructor(redis: Redis, partitions: Partitions, options: HookReadinessOptions = {}) {
    this.#redis = redis;
    this.#partitions = partitions;
    this.#refreshMs = options.refreshMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the hook answered lately and has not failed since, as last read. */
  ready(hookId: string): boolean {
    return this.#ready.has(hookId);
  }

  /**
   * Reads the hooks' health again when the last reading is older than `refreshMs` (and none is
   * under way); answers the reading, for tests. A failed read keeps the last one.
   */
  refresh(hooks: readonly { id: string }[]): Promise<void> {
    const now = this.#now();
    if (this.#reading !== undefined) return this.#reading;
    if (now - this.#readAt < this.#refreshMs) return Promise.resolve();
    this.#readAt = now;
    this.#reading = this.#read(
      hooks.map((hook) => hook.id),
      now,
    )
      .catch(() => undefined)
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async #read(hookIds: readonly string[], now: number): Promise<void> {
    if (hookIds.length === 0) {
      this.#ready = new Set();
      return;
    }
    const answers = await readHookHealth(this.#redis, this.#partitions, hookIds);
    const ready = new Set<string>();
    hookIds.forEach((id, i) => {
      const health = decodeHealth(answers[i]);
      const { lastSuccessAt, lastFailureAt } = health;
      if (health.circuit.state !== "closed" || lastSuccessAt === undefined) return;
      if (now - lastSuccessAt > READY_WITHIN_MS) return;
      if (lastFailureAt !== undefined && lastFailureAt > lastSuccessAt) return;
      ready.add(id);
    });
    this.#ready = ready;
  }
}
