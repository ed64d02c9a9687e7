import { type Redis, ReplyError } from "ioredis";
import { mastersOf } from "./connection";
import { QueueError } from "./errors";

/**
 * What Redis keeps on disk, as `CONFIG GET` states it, and what that means for an entry ingest
 * has answered 202 for. Deliveries live only in Redis: its persistence is hookwire's.
 *
 * The loss window of each setting (Redis' "How durable is the append only file?" and aof.c):
 * - AOF off, no `save` points: everything, on any restart: Redis keeps nothing on disk.
 * - AOF off, `save` points (RDB only): what was written since the last snapshot, on a crash or
 *   a kill; a clean SHUTDOWN writes a snapshot first.
 * - `appendonly yes`: Redis write()s the AOF before it answers, so a crash of the Redis process
 *   loses nothing (with `everysec` on a disk too slow to keep up, Redis puts the write off for up
 *   to 2 s while still answering); what a crash of the machine (or power loss) loses depends on
 *   `appendfsync`: `always` nothing (fsync before the answer), `everysec` about 1 s (up to 2 s),
 *   `no` whatever the OS had not flushed yet (Linux: about 30 s).
 */
export interface RedisPersistence {
  /** `yes`, `no`, or `unknown` where CONFIG is disabled or renamed (managed Redis). */
  appendonly: string;
  /** `always`, `everysec`, `no`, or `unknown`. */
  appendfsync: string;
  /** RDB snapshot points as Redis states them (`3600 1 300 100 60 10000`), `""` for none, or `unknown`. */
  save: string;
  /**
   * Whether an acknowledged entry survives a restart or crash of the Redis process: true exactly
   * when the append-only file is on; null when Redis would not say.
   */
  durable: boolean | null;
  /** What a crash loses with these settings, in a sentence (for /readyz, the log, the dashboard). */
  lossWindow: string;
}

export const UNKNOWN = "unknown";

/**
 * Reads Redis' persistence settings. CONFIG refused (disabled, renamed, or denied by an ACL: a
 * reply error) reports `unknown`; a connection that fails rejects, as every other command would.
 */
export async function readRedisPersistence(redis: Redis): Promise<RedisPersistence> {
  // On a cluster, each master keeps its own slots: the least durable of them is the verdict.
  const verdicts = await Promise.all(mastersOf(redis).map((node) => readOne(node)));
  const rank = (p: RedisPersistence) => (p.durable === false ? 0 : p.durable === null ? 1 : 2);
  return verdicts.reduce((worst, p) => (rank(p) < rank(worst) ? p : worst));
}

async function readOne(redis: Redis): Promise<RedisPersistence> {
  // One parameter per CONFIG GET: Redis before 7 takes only one.
  const [appendonly, appendfsync, save] = await Promise.all(
    ["appendonly", "appendfsync", "save"].map((name) => configValue(redis, name)),
  );
  return assessPersistence({ appendonly: appendonly!, appendfsync: appendfsync!, save: save! });
}

async function configValue(redis: Redis, name: string): Promise<string> {
  try {
    const reply = (await redis.call("CONFIG", "GET", name)) as unknown;
    // [name, value], or [] where the parameter does not exist.
    return Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : UNKNOWN;
  } catch (error) {
    if (error instanceof ReplyError) return UNKNOWN;
    throw error;
  }
}

/** The verdict on three settings: pure, so each combination is tested without a Redis. */
export function assessPersistence(
  settings: Pick<RedisPersistence, "appendonly" | "appendfsync" | "save">,
): RedisPersistence {
  const { appendonly, appendfsync, save } = settings;
  const verdict = (durable: boolean | null, lossWindow: string): RedisPersistence => ({
    appendonly,
    appendfsync,
    save,
    durable,
    lossWindow,
  });
  if (appendonly === "yes") {
    const machineCrash: Record<string, string> = {
      always: "nothing: every write is fsynced before Redis answers",
      everysec:
        "nothing if the Redis process crashes (up to 2 s when the disk is too slow to keep up); about the last second (up to 2 s when the disk is slow) if the machine crashes or loses power",
      no: "nothing if the Redis process crashes; what the OS had not yet flushed (about 30 s on Linux) if the machine crashes or loses power",
    };
    return verdict(
      true,
      machineCrash[appendfsync] ??
        "nothing if the Redis process crashes; on a machine crash, what appendfsync allows",
    );
  }
  if (appendonly === "no") {
    if (save === "") return verdict(false, "everything: Redis keeps nothing on disk, a restart empties it");
    if (save === UNKNOWN) {
      return verdict(false, "at least everything since the last RDB snapshot, if Redis crashes or is killed");
    }
    return verdict(
      false,
      `everything written since the last RDB snapshot (save ${save}), if Redis crashes or is killed`,
    );
  }
  return verdict(
    null,
    "unknown: this Redis does not allow CONFIG GET; check its provider's persistence settings",
  );
}

/**
 * The log line for a Redis whose persistence loses acknowledged entries, or undefined when the
 * append-only file is on. It names the fix.
 */
export function persistenceWarning(persistence: RedisPersistence): string | undefined {
  if (persistence.durable === true) return undefined;
  if (persistence.durable === null) {
    return (
      "cannot tell whether Redis keeps acknowledged entries across a restart (CONFIG GET is not allowed): " +
      "make sure its append-only file is on (appendonly yes)"
    );
  }
  return (
    `Redis has its append-only file off (appendonly no, save ${JSON.stringify(persistence.save)}): ` +
    `entries answered 202 whose webhooks are still queued are lost if it restarts — ${persistence.lossWindow}. ` +
    "Turn it on: redis-cli CONFIG SET appendonly yes, and appendonly yes in redis.conf so it stays on"
  );
}

/**
 * HOOKWIRE_REQUIRE_DURABLE_REDIS=true: what is wrong with a Redis that says its append-only file
 * is off, or undefined when nothing is. A Redis that will not say (CONFIG disabled) passes: on
 * managed Redis persistence is the provider's setting, and refusing there would make the setting
 * unusable; the log warns instead. Start-up refuses with it, `/readyz` answers it.
 */
export function durabilityProblem(persistence: RedisPersistence, redis: string): string | undefined {
  if (persistence.durable !== false) return undefined;
  return (
    `HOOKWIRE_REQUIRE_DURABLE_REDIS=true, but the Redis at ${redis} has its append-only file off ` +
    `(appendonly no, save ${JSON.stringify(persistence.save)}): an acknowledged entry would not survive ` +
    `a Redis restart (loses ${persistence.lossWindow}). Turn the append-only file on ` +
    "(redis-cli CONFIG SET appendonly yes, and appendonly yes in redis.conf), or unset HOOKWIRE_REQUIRE_DURABLE_REDIS"
  );
}

/** Refuses to start on a Redis that `durabilityProblem` finds fault with. */
export function requireDurable(persistence: RedisPersistence, redis: string): void {
  const problem = durabilityProblem(persistence, redis);
  if (problem !== undefined) throw new QueueError("QUEUE_ERR_NOT_DURABLE", problem);
}
