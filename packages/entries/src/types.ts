/**
 * Words (see ARCHITECTURE.md):
 * - entry: one audit log entry posted to ingest. After normalisation it is always shape 1, the
 *   template context of LaunchDarkly's integration framework (its `sample-context/` files).
 * - shape 1, "context": `timestamp{milliseconds, seconds, rfc3339, simple}`, `kind`, `verbKind`,
 *   `title{plainText, markdown, html}`, `details{…}`, `project{key, name, tags, environment{…}}`,
 *   `member{…}`, `key`, `name`, `tags`, optionally `accesses`.
 * - shape 2, "rest": LaunchDarkly's REST audit-log entry (`GET /api/v2/auditlog/{id}`): `date` in
 *   epoch ms, `accesses[]`, `title` and `description` as Markdown, `target{resources}`.
 * - access: one `(action, resource)` pair of an entry, e.g. `updateOn` on
 *   `proj/default:env/production:flag/demo-flag`.
 * - issue: one problem with the posted body, named by a JSON pointer into that body.
 */

export interface Access {
  resource: string;
  action: string;
}

export interface EntryTimestamp {
  milliseconds: number;
  seconds: number;
  /** UTC, no fraction: `2020-02-04T00:48:39Z`. */
  rfc3339: string;
  /** UTC, 24-hour, zero-padded: `2020-02-04 00:48:39`. */
  simple: string;
}

/** One text in the three forms templates pick from. */
export interface RichText {
  plainText: string;
  markdown: string;
  html: string;
}

export interface EntryEnvironment {
  key: string;
  name?: string;
  tags: string[];
  [field: string]: unknown;
}

export interface EntryProject {
  key: string;
  name?: string;
  tags: string[];
  environment?: EntryEnvironment;
  [field: string]: unknown;
}

/** A normalised entry: shape 1, whichever shape was posted. Fields not named here are kept as posted. */
export interface Entry {
  /** Given, or generated when absent (then the entry cannot be deduplicated). See entry-id.ts. */
  _id: string;
  kind: string;
  timestamp: EntryTimestamp;
  verbKind?: string;
  key?: string;
  name?: string;
  title?: RichText;
  details?: RichText;
  project?: EntryProject;
  member?: Record<string, unknown>;
  tags: string[];
  accesses?: Access[];
  [field: string]: unknown;
}

export type EntryShape = "context" | "rest";

/** Stable codes of issues (the body is refused) and warnings (the entry is accepted, changed). */
export type EntryIssueCode =
  /** A value has the wrong JSON type (string expected, object expected…). */
  | "ENTRIES_ISSUE_TYPE"
  /** A required field is missing. */
  | "ENTRIES_ISSUE_REQUIRED"
  /** A string or array that must not be empty is. */
  | "ENTRIES_ISSUE_EMPTY"
  /** A string (or an object key) is longer than allowed. */
  | "ENTRIES_ISSUE_TOO_LONG"
  /** Objects and arrays nest deeper than allowed. */
  | "ENTRIES_ISSUE_TOO_DEEP"
  /** An entry holds more values than allowed (only reachable from in-process callers). */
  | "ENTRIES_ISSUE_TOO_BIG"
  /** A body array holds more entries than allowed. */
  | "ENTRIES_ISSUE_TOO_MANY"
  /** A number is out of range (a timestamp before 1970 or after 9999, not an integer). */
  | "ENTRIES_ISSUE_RANGE"
  /** An `_id` is not 1–200 characters of `[A-Za-z0-9._~-]`. */
  | "ENTRIES_ISSUE_BAD_ID"
  /** A value no JSON document can hold (function, NaN, class instance…); in-process callers only. */
  | "ENTRIES_ISSUE_NOT_JSON"
  /** A key such as `__proto__` was dropped (a warning: the entry is accepted without it). */
  | "ENTRIES_WARN_DROPPED_KEY";

export interface EntryIssue {
  /** JSON pointer (RFC 6901) into the request body, e.g. "/3/timestamp/milliseconds"; "" is the body. */
  pointer: string;
  code: EntryIssueCode;
  /** Says what was wrong, where, and the value found (shortened). */
  message: string;
}

/** Bounds that keep a hostile or broken body cheap to refuse. */
export interface EntryLimits {
  /** Levels of objects/arrays below the entry itself. */
  maxDepth: number;
  /** Characters in any string or object key. */
  maxStringLength: number;
  /** Values (of any type) in one entry; JSON bodies hit the byte limit first. */
  maxValues: number;
}

export type NormaliseEntryResult =
  | {
      entry: Entry;
      issues: [];
      /** Changes made to accept the entry (dropped keys); worth a log line, not a refusal. */
      warnings: EntryIssue[];
      shape: EntryShape;
      /** True when the entry had no `_id` and one was generated. */
      idGenerated: boolean;
    }
  | {
      entry?: undefined;
      issues: EntryIssue[];
      warnings: EntryIssue[];
      shape?: undefined;
      idGenerated?: undefined;
    };

export interface NormaliseBodyOptions {
  /** Entries in one array body; default 1000. */
  maxEntries?: number;
  limits?: Partial<EntryLimits>;
}

export interface NormaliseBodyResult {
  /** The entries that normalised, in body order. A caller refuses the body when `issues` is not empty. */
  entries: Entry[];
  issues: EntryIssue[];
  warnings: EntryIssue[];
  /** Ids generated for entries posted without `_id`; such entries cannot be deduplicated. */
  generatedIds: ReadonlySet<string>;
}
