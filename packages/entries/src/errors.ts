import type { EntryIssue } from "./types";

/**
 * Failures of the entries package. Callers branch on `code`, never on message text.
 *
 * Normalisation itself never throws: `normaliseEntry` and `normaliseBody` return issues. These
 * errors are for callers that want one value or an exception (`parseEntry`: the CLI, tests).
 */
export type EntryErrorCode =
  /** The input is not an acceptable entry; `issues` lists every problem. */
  "ENTRIES_ERR_INVALID";

const DEFAULT_MESSAGES = {
  ENTRIES_ERR_INVALID: "the entry is invalid",
} as const satisfies Record<EntryErrorCode, string>;

export class EntryError extends Error {
  readonly code: EntryErrorCode;

  constructor(code: EntryErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? DEFAULT_MESSAGES[code], options);
    this.name = "EntryError";
    this.code = code;
  }
}

/** An entry (or body) with one or more issues, all of them in `issues`. */
export class InvalidEntryError extends EntryError {
  readonly issues: EntryIssue[];

  constructor(issues: EntryIssue[]) {
    super("ENTRIES_ERR_INVALID", summarise(issues));
    this.name = "InvalidEntryError";
    this.issues = issues;
  }
}

const SUMMARY_LIMIT = 5;

function summarise(issues: readonly EntryIssue[]): string {
  const shown = issues.slice(0, SUMMARY_LIMIT).map(describeIssue);
  const more = issues.length > SUMMARY_LIMIT ? `; and ${issues.length - SUMMARY_LIMIT} more` : "";
  const noun = issues.length === 1 ? "problem" : "problems";
  return `invalid entry (${issues.length} ${noun}): ${shown.join("; ")}${more}`;
}

/** One line: where (the JSON pointer, or "body" for the root) and what. */
export function describeIssue(issue: EntryIssue): string {
  return `${issue.pointer === "" ? "body" : issue.pointer}: ${issue.message}`;
}
