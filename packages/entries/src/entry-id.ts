import { randomUUID } from "node:crypto";
import { show } from "./issue-list";
import type { EntryIssue } from "./types";

/**
 * Entry ids. An id ends up inside Redis keys (the dedupe set) and BullMQ job ids (`hookId:entryId`),
 * where `:` separates parts, so a posted `_id` must be 1–200 characters of the URL-unreserved set
 * `[A-Za-z0-9._~-]`: no `:`, no spaces, no `/`, nothing that needs quoting in a URL, a log line or
 * a Redis key. LaunchDarkly's ids (24 hex digits) and UUIDs fit.
 *
 * An entry posted without `_id` gets a random one (a UUID), so that every entry, delivery and
 * attempt can be named; such an entry cannot be deduplicated: posting it twice delivers it twice.
 */

export const MAX_ENTRY_ID_LENGTH = 200;

export const ENTRY_ID_PATTERN = /^[A-Za-z0-9._~-]{1,200}$/;

export function isEntryId(value: unknown): value is string {
  return typeof value === "string" && ENTRY_ID_PATTERN.test(value);
}

export function newEntryId(): string {
  return randomUUID();
}

export type EntryIdResult =
  | { id: string; generated: boolean; issue?: undefined }
  | { id?: undefined; generated?: undefined; issue: EntryIssue };

/**
 * The id of a posted entry: its `_id` when that is a valid id, a new one when `_id` is absent or
 * null, else an issue at `pointer` (the pointer of the `_id` field) quoting the bad value.
 */
export function entryIdOf(value: unknown, pointer: string): EntryIdResult {
  if (value === undefined || value === null) return { id: newEntryId(), generated: true };
  if (isEntryId(value)) return { id: value, generated: false };
  const message =
    typeof value !== "string"
      ? `must be a string; got ${show(value)}`
      : value.length === 0
        ? "must not be empty (leave `_id` out to have one generated)"
        : value.length > MAX_ENTRY_ID_LENGTH
          ? `must be at most ${MAX_ENTRY_ID_LENGTH} characters; got ${value.length}`
          : `must use only the characters A-Z a-z 0-9 . _ ~ - (it goes into Redis keys and job ids); got ${show(value)}`;
  return { issue: { pointer, code: "ENTRIES_ISSUE_BAD_ID", message } };
}
