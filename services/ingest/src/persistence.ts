import { persistenceWarning, type RedisPersistence, readRedisPersistence } from "@hookwire/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Ingest's view of Redis' persistence (the verdict is @hookwire/queue's `assessPersistence`).
 * Read whenever the connection becomes ready (at start, and after every reconnect: a restarted
 * Redis may run with other settings), and afresh for /readyz and /v1/stats, so that the fix the
 * warning names (`CONFIG SET appendonly yes`) shows without restarting ingest. Each change is
 * logged once: a warning while acknowledged entries would not survive a Redis restart.
 */
export class PersistenceWatch {
  #last: RedisPersistence | undefined;
  #reading: Promise<RedisPersistence> | undefined;
  readonly #redis: Redis;
  readonly #logger: Logger | undefined;
  // A failed reading leaves the last one; /readyz reports the connection problem itself.
  readonly #onReady = () => void this.read().catch(() => undefined);

  constructor(redis: Redis, logger: Logger | undefined) {
    this.#redis = redis;
    this.#logger = logger;
    redis.on("ready", this.#onReady);
    if (redis.status === "ready") this.#onReady();
  }

  /** The latest reading; undefined until Redis has answered once. */
  get last(): RedisPersistence | undefined {
    return this.#last;
  }

  /** Reads the settings now; callers at the same moment share one reading. */
  read(): Promise<RedisPersistence> {
    this.#reading ??= readRedisPersistence(this.#redis)
      .then((persistence) => {
        this.#note(persistence);
        return persistence;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  close(): void {
    this.#redis.off("ready", this.#onReady);
  }

  #note(persistence: RedisPersistence): void {
    const previous = this.#last;
    this.#last = persistence;
    if (
      previous !== undefined &&
      previous.appendonly === persistence.appendonly &&
      previous.appendfsync === persistence.appendfsync &&
      previous.save === persistence.save
    ) {
      return;
    }
    const { appendonly, appendfsync, save, lossWindow } = persistence;
    const fields = { redisPersistence: { appendonly, appendfsync, save } };
    const warning = persistenceWarning(persistence);
    if (warning !== undefined) this.#logger?.warn(fields, warning);
    else
      this.#logger?.info({ ...fields, lossWindow }, "Redis keeps acknowledged entries (append-only file on)");
  }
}
