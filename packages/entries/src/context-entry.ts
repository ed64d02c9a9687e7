import { readFields } from "./entry-fields";
import { type IssueList, pointerTo } from "./issue-list";
import type { Entry } from "./types";

/**
 * Shape 1, the framework's template context, checked and completed. Required: `kind` and
 * `timestamp` (an object with at least `milliseconds`, or bare epoch milliseconds). The fields
 * entry-fields.ts names are checked when present; every other field is kept as posted, since
 * templates may use it. Added when absent: `_id` (generated) and `tags` ([]).
 */

export interface ReadEntry {
  entry: Entry;
  idGenerated: boolean;
}

export function readContextEntry(
  source: Record<string, unknown>,
  pointer: string,
  list: IssueList,
): ReadEntry | undefined {
  const before = list.issues.length;
  const { out, id } = readFields(source, pointer, list);
  if (source.timestamp === undefined) {
    list.issue(
      pointerTo(pointer, "timestamp"),
      "ENTRIES_ISSUE_REQUIRED",
      "is required: {milliseconds, seconds, rfc3339, simple} (milliseconds alone will do), " +
        "or send a REST audit-log entry with `date` in epoch milliseconds",
    );
  }
  if (out.tags === undefined) out.tags = [];
  if (list.issues.length > before || id === undefined) return undefined;
  return { entry: out as Entry, idGenerated: id.generated };
}
