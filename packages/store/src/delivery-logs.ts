import { hookIdOfDelivery, type Partitions } from "@hookwire/queue";
import {
  type DeliveryLog,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryRecord,
  type LogPosition,
  newestFirst,
  pageLimit,
  positionOf,
  positionText,
  START,
} from "./delivery-log";

/** A partition whose index has been walked to its end, in a merged cursor. */
const DONE = "-";

/**
 * The delivery log of every partition (see the queue package's partitions.ts), read as one: a
 * delivery is looked up in its hook's partition, and a listing across hooks merges the
 * partitions' indexes newest first, its cursor holding each partition's own position.
 */
export class DeliveryLogs {
  readonly #logs: readonly DeliveryLog[];
  readonly #partitions: Partitions;

  /** `logs[i]`: partition i's log. */
  constructor(logs: readonly DeliveryLog[], partitions: Partitions) {
    this.#logs = logs;
    this.#partitions = partitions;
  }

  /** The log of a hook's partition. */
  of(hookId: string): DeliveryLog {
    return this.#logs[this.#partitions.of(hookId).index] as DeliveryLog;
  }

  get(id: string): Promise<DeliveryRecord | undefined> {
    return (this.#logs[this.#partitions.ofDelivery(id).index] as DeliveryLog).get(id);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    if (this.#logs.length === 1) return (this.#logs[0] as DeliveryLog).getMany(ids);
    const found = await Promise.all(
      this.#partitions
        .group(ids, hookIdOfDelivery)
        .map(({ partition, items }) => (this.#logs[partition.index] as DeliveryLog).getMany(items)),
    );
    return new Map(found.flatMap((map) => [...map]));
  }

  async list(query: DeliveryQuery): Promise<DeliveryPage> {
    if (this.#logs.length === 1) return (this.#logs[0] as DeliveryLog).list(query);
    if (query.hookId !== undefined) return this.of(query.hookId).list(query);
    const limit = pageLimit(query);
    const from = decodeCursor(query.cursor, this.#logs.length);
    const walked = await Promise.all(
      this.#logs.map((log, i) => {
        const position = from[i];
        return position === undefined
          ? { found: [], more: false, position: START }
          : log.walk(query, limit, position);
      }),
    );
    // In the order each walk took them (its index's score, then newest first), so that what a
    // partition gives the page is always the start of what it found, and its position past the
    // last taken skips nothing: the failed index is scored by update, not acceptance.
    const merged = walked
      .flatMap((page, partition) => page.found.map((found) => ({ ...found, partition })))
      .sort(
        (a, b) =>
          Number(b.position.score) - Number(a.position.score) ||
          newestFirst(a.record, b.record) ||
          a.partition - b.partition,
      )
      .slice(0, limit);
    const next: (LogPosition | undefined)[] = walked.map((page, i) => {
      const taken = merged.filter((found) => found.partition === i);
      if (taken.length === page.found.length) return page.more ? page.position : undefined;
      return taken.at(-1)?.position ?? from[i];
    });
    const deliveries = merged.map((found) => found.record);
    return next.some((position) => position !== undefined)
      ? { deliveries, nextCursor: encodeCursor(next) }
      : { deliveries };
  }
}

function encodeCursor(positions: readonly (LogPosition | undefined)[]): string {
  const text = positions
    .map((position) => (position === undefined ? DONE : positionText(position)))
    .join(",");
  return Buffer.from(text, "utf8").toString("base64url");
}

/** One position per partition (undefined: walked to its end); a cursor not of this shape starts over. */
function decodeCursor(cursor: string | undefined, count: number): (LogPosition | undefined)[] {
  const fresh = Array.from({ length: count }, () => START);
  if (cursor === undefined) return fresh;
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split(",");
  if (parts.length !== count) return fresh;
  const positions = parts.map((part) => (part === DONE ? undefined : positionOf(part)));
  return positions.every((position, i) => position !== undefined || parts[i] === DONE) ? positions : fresh;
}
