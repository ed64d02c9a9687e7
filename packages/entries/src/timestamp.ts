import type { EntryTimestamp } from "./types";

/**
 * An entry's time in the four forms of the framework's template context. Formats are the ones
 * of the `formatWithOffset` helper: `rfc3339` UTC without fraction, `simple` UTC 24-hour.
 */

/** 9999-12-31T23:59:59.999Z: past it, ISO strings take a six-digit year and the formats break. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Epoch milliseconds a timestamp can hold: an integer from 1970 to the end of 9999. */
export function isTimestampMs(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_TIMESTAMP_MS;
}

/** The four forms from epoch milliseconds (checked with isTimestampMs first). */
export function timestampOf(milliseconds: number): EntryTimestamp {
  const iso = new Date(milliseconds).toISOString(); // 2020-02-04T00:48:39.650Z
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  return {
    milliseconds,
    seconds: Math.floor(milliseconds / 1000),
    rfc3339: `${date}T${time}Z`,
    simple: `${date} ${time}`,
  };
}
