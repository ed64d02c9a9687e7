/**
 * Operational events in: each partition's stream of what happened to hooks (written by workers,
 * and by ingest itself when an operator turns a disabled hook on again), read by the consumer
 * group `ingest` (one reader per event, whichever ingest replica takes it) and turned into an
 * entry of kind `hookwire` with one access `{action, resource: "hook/<hookId>"}`. The entry goes
 * through the intake like any posted one, to every hook whose policy allows it except the hook it
 * is about.
 *
 * At least once, like any entry: an event is acknowledged only after its entry is committed, and
 * its entry id comes from its stream id, so one read twice is a duplicate, delivered once. An
 * action about a hook is delivered at most once per window (default a minute): a receiver that
 * flaps does not flood the operators' channel.
 */
import { type Entry, normaliseEntry } from "@hookwire/entries";
import { type Partition, type Partitions, redisErrorCode } from "@hookwire/queue";
import {
  decodeEvent,
  type HookStore,
  type OperationalAction,
  type OperationalEvent,
  writeEvent,
} from "@hookwire/store";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Intake } from "./intake";

const GROUP = "ingest";
/** Events read per partition and round. */
const READ_COUNT = 50;
/** An event another ingest read and did not acknowledge for this long is taken over. */
const CLAIM_IDLE_MS = 60_000;

export interface OperationalEventsOptions {
  redis: Redis;
  partitions: Partitions;
  hooks: HookStore;
  intake: Intake;
  logger?: Logger | undefined;
  /** How often the streams are read (default 250 ms). */
  pollMs?: number;
  /** One event per hook and action within this (default 60 s). */
  windowMs?: number;
  /** This reader's name in the group (default: unique to the process). */
  consumer?: string;
}

/** Each action's title: what an operator reads in the channel. */
const TITLES: Record<OperationalAction, (name: string) => string> = {
  hookDisabled: (name) => `hookwire turned hook ${name} off`,
  hookRecovered: (name) => `hook ${name} is on again`,
  hookCircuitOpened: (name) => `hook ${name} stopped answering: hookwire holds its deliveries`,
  hookCircuitClosed: (name) => `hook ${name} answers again`,
  deliveryExhausted: (name) => `hookwire gave up a delivery to hook ${name}`,
  oauthRefreshFailed: (name) => `hook ${name} could not get an OAuth access token`,
};

/** The entry of an event (`id`: its stream id): REST-shaped, so its title is rendered as any entry's. */
export function eventEntry(
  event: OperationalEvent,
  id: string,
  partition: number,
  hook: { name: string; integration: string } | undefined,
): Entry {
  const name = hook?.name ?? event.hookId;
  const { entry, issues } = normaliseEntry({
    _id: `hookwire.p${partition}.${id}`,
    kind: "hookwire",
    date: event.at,
    title: TITLES[event.action](name),
    description: event.detail,
    accesses: [{ action: event.action, resource: `hook/${event.hookId}` }],
    hook: { id: event.hookId, name, ...(hook ? { integration: hook.integration } : {}) },
  });
  if (entry === undefined) throw new Error(`an operational event made no entry: ${JSON.stringify(issues)}`);
  return entry;
}

/** Adds an event to its hook's partition's stream at once (not within another write). */
export function emitEvent(redis: Redis, partitions: Partitions, event: OperationalEvent): Promise<void> {
  return writeEvent(redis, partitions.of(event.hookId).keys, event);
}

export class OperationalEvents {
  readonly #options: OperationalEventsOptions;
  readonly #consumer: string;
  readonly #grouped = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<number> | undefined;
  #rounds = 0;
  #dropped = 0;

  constructor(options: OperationalEventsOptions) {
    this.#options = options;
    this.#consumer = options.consumer ?? `ingest-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  }

  /** Events dropped by the window since start (each hook and action: one per window). */
  get dropped(): number {
    return this.#dropped;
  }

  start(): void {
    const tick = () => {
      this.#polling ??= this.poll()
        .catch((error: unknown) => {
          this.#options.logger?.debug({ err: error }, "could not read the operational events");
          return 0;
        })
        .finally(() => {
          this.#polling = undefined;
        });
    };
    this.#timer = setInterval(tick, this.#options.pollMs ?? 250);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }

  /** One round over every partition's stream; answers how many events it handled. */
  async poll(): Promise<number> {
    let handled = 0;
    const claim = this.#rounds++ % 20 === 0;
    for (const partition of this.#options.partitions.all)
      handled += await this.#pollPartition(partition, claim);
    return handled;
  }

  async #pollPartition(partition: Partition, claim: boolean): Promise<number> {
    const { redis } = this.#options;
    const stream = partition.keys.events;
    if (!this.#grouped.has(partition.index)) {
      // From the start of the stream: events written before any ingest ran are delivered too.
      await redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM").catch((error: unknown) => {
        if (redisErrorCode(error) !== "BUSYGROUP") throw error;
      });
      this.#grouped.add(partition.index);
    }
    const entries: [string, string[]][] = [];
    try {
      if (claim) {
        const [, taken] = (await redis.xautoclaim(
          stream,
          GROUP,
          this.#consumer,
          CLAIM_IDLE_MS,
          "0",
          "COUNT",
          READ_COUNT,
        )) as [string, [string, string[]][]];
        entries.push(...taken.filter((entry) => entry !== null));
      }
      // This reader's own unacknowledged events first (a round that failed), then new ones.
      for (const from of ["0", ">"]) {
        if (entries.length > 0) break;
        const answer = (await redis.xreadgroup(
          "GROUP",
          GROUP,
          this.#consumer,
          "COUNT",
          READ_COUNT,
          "STREAMS",
          stream,
          from,
        )) as [string, [string, string[]][]][] | null;
        entries.push(...(answer?.[0]?.[1] ?? []));
      }
    } catch (error) {
      // The stream was dropped (a test's cleanup, an operator's FLUSHDB): make the group again.
      if (redisErrorCode(error) === "NOGROUP") this.#grouped.delete(partition.index);
      throw error;
    }
    for (const [id, fields] of entries) {
      const event = decodeEvent(fields);
      if (event !== undefined) await this.#deliver(partition, id, event);
      await redis.xack(stream, GROUP, id);
    }
    return entries.length;
  }

  async #deliver(partition: Partition, id: string, event: OperationalEvent): Promise<void> {
    const { redis, partitions, hooks, intake } = this.#options;
    // The window is taken by this event's id, so a retry of the same event still goes through.
    const window = partitions.base.keys.eventSent(event.hookId, event.action);
    const taken = await redis.set(window, id, "PX", this.#options.windowMs ?? 60_000, "NX");
    if (taken === null && (await redis.get(window)) !== id) {
      this.#dropped++;
      return;
    }
    const hook = await hooks.get(event.hookId);
    await intake.accept([eventEntry(event, id, partition.index, hook)], [], {
      exclude: event.hookId,
      observed: false,
    });
  }
}
