import { type ReadEntry, readContextEntry } from "./context-entry";
import { InvalidEntryError } from "./errors";
import { IssueList, pointerTo, show } from "./issue-list";
import { readRestEntry } from "./rest-entry";
import { DEFAULT_LIMITS, isPlainObject, sanitise } from "./sanitiser";
import type {
  Entry,
  EntryLimits,
  EntryShape,
  NormaliseBodyOptions,
  NormaliseBodyResult,
  NormaliseEntryResult,
} from "./types";

/**
 * Entries in, shape 1 (the framework's template context) out. Neither function throws, whatever
 * the input: problems come back as issues, each with a JSON pointer into the posted body.
 *
 * Which shape: an object with no `timestamp` field and with a `date` field is a REST audit-log
 * entry (shape 2, converted: see rest-entry.ts); any other object is a template context (shape 1).
 * So a context may carry a `date` of its own, and a REST entry with a bad `date` is told so.
 *
 * Required, in both shapes:
 *   kind        a non-empty string of at most 200 characters
 *   timestamp   shape 1: `{milliseconds, seconds?, rfc3339?, simple?}` or bare epoch milliseconds;
 *               milliseconds a whole number from 0 to 253402300799999 (the end of year 9999);
 *               missing forms are filled, forms given are kept as given
 *   date        shape 2, instead of timestamp: epoch milliseconds, the same range
 * Checked when present (null counts as absent, except where a field must be an object):
 *   _id         1–200 characters of [A-Za-z0-9._~-] (it goes into Redis keys and job ids);
 *               generated (a UUID) when absent: such an entry cannot be deduplicated
 *   verbKind, key, name, titleVerb, comment, description, shortDescription: strings
 *   title, details: `{plainText, markdown, html}` (missing forms rendered from markdown) or Markdown
 *   project     `{key, name?, tags?, environment?: {key, name?, tags?}}`; key a string, "" allowed
 *   tags        array of strings; null or absent becomes [] (here and in project and environment)
 *   member      an object; gains `displayName` and `emailLocalPart` when they are absent
 *   accesses    a non-empty array of `{action, resource}`, both non-empty strings
 *   target      an object; `target.resources` an array of strings
 * Every other field is kept as posted: templates may use it.
 *
 * Everywhere in the entry: keys `__proto__`, `constructor` and `prototype` are dropped (reported
 * as warnings, not issues); objects and arrays nest at most 64 levels; strings and keys hold at
 * most 256 Ki characters; an entry holds at most 200 000 values (see sanitiser.ts; `limits`
 * changes these). A body holds one entry or an array of 1 to 1000 (`maxEntries`).
 */

export const DEFAULT_MAX_ENTRIES = 1000;

export function entryShapeOf(input: Record<string, unknown>): EntryShape {
  return input.timestamp === undefined && input.date !== undefined ? "rest" : "context";
}

/** One entry; `pointer` prefixes every issue pointer (e.g. "/3" for the fourth of an array body). */
export function normaliseEntry(
  input: unknown,
  pointer = "",
  options: { limits?: Partial<EntryLimits> } = {},
): NormaliseEntryResult {
  const list = new IssueList();
  const read = readEntry(input, pointer, limitsOf(options.limits), list);
  if (read === undefined || list.issues.length > 0) return { issues: list.issues, warnings: list.warnings };
  return {
    entry: read.entry,
    issues: [],
    warnings: list.warnings,
    shape: read.shape,
    idGenerated: read.idGenerated,
  };
}

/**
 * A request body: one entry, or an array of 1 to `maxEntries` entries. Every problem of every entry
 * is listed; a body over `maxEntries` is refused whole, without reading its entries. The body is
 * acceptable only when `issues` is empty (then `entries` holds all of them, in order).
 */
export function normaliseBody(body: unknown, options: NormaliseBodyOptions = {}): NormaliseBodyResult {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const limits = limitsOf(options.limits);
  const list = new IssueList();
  const entries: Entry[] = [];
  const generatedIds = new Set<string>();
  const take = (read: (ReadEntry & { shape: EntryShape }) | undefined): void => {
    if (read === undefined) return;
    entries.push(read.entry);
    if (read.idGenerated) generatedIds.add(read.entry._id);
  };
  try {
    if (Array.isArray(body)) {
      if (body.length === 0) {
        list.issue("", "ENTRIES_ISSUE_EMPTY", "must hold at least one entry");
      } else if (body.length > maxEntries) {
        list.issue(
          "",
          "ENTRIES_ISSUE_TOO_MANY",
          `holds ${body.length} entries, more than the limit of ${maxEntries}`,
        );
      } else {
        for (let i = 0; i < body.length; i++) take(readEntry(body[i], pointerTo("", i), limits, list));
      }
    } else {
      take(readEntry(body, "", limits, list));
    }
  } catch (error) {
    list.issue("", "ENTRIES_ISSUE_NOT_JSON", `could not be read: ${reasonOf(error)}`);
  }
  return { entries, issues: list.issues, warnings: list.warnings, generatedIds };
}

/** One entry or an exception: InvalidEntryError (code ENTRIES_ERR_INVALID) listing every issue. */
export function parseEntry(input: unknown, options: { limits?: Partial<EntryLimits> } = {}): Entry {
  const result = normaliseEntry(input, "", options);
  if (result.entry === undefined) throw new InvalidEntryError(result.issues);
  return result.entry;
}

function readEntry(
  input: unknown,
  pointer: string,
  limits: EntryLimits,
  list: IssueList,
): (ReadEntry & { shape: EntryShape }) | undefined {
  try {
    if (!isPlainObject(input)) {
      list.issue(pointer, "ENTRIES_ISSUE_TYPE", `an entry must be a JSON object; got ${show(input)}`);
      return undefined;
    }
    const before = list.issues.length;
    const clean = sanitise(input, pointer, limits, list);
    if (!isPlainObject(clean)) return undefined; // the entry itself was too deep or too big
    const shape = entryShapeOf(clean);
    const read =
      shape === "rest" ? readRestEntry(clean, pointer, list) : readContextEntry(clean, pointer, list);
    if (read === undefined || list.issues.length > before) return undefined;
    // Not `{ ...read, shape }`: a spread copy that gains a key is slow in V8 (see readMember).
    return Object.assign(read, { shape });
  } catch (error) {
    // Only in-process callers can get here (a getter that throws, a revoked proxy): JSON cannot.
    list.issue(pointer, "ENTRIES_ISSUE_NOT_JSON", `could not be read: ${reasonOf(error)}`);
    return undefined;
  }
}

function limitsOf(overrides: Partial<EntryLimits> | undefined): EntryLimits {
  return overrides === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...overrides };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : "a non-error value was thrown";
}
