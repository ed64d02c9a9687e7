import type { PolicyIssue } from "./types";

/** Stable codes callers branch on; never branch on message text. */
export type PolicyErrorCode = "POLICY_ERR_INVALID" | "POLICY_ERR_BAD_SPECIFIER";

const DEFAULT_MESSAGES: Record<PolicyErrorCode, string> = {
  POLICY_ERR_INVALID: "the policy is invalid",
  POLICY_ERR_BAD_SPECIFIER: "the resource specifier is malformed",
};

/** Base of every error this package throws: nothing else escapes its public functions. */
export class PolicyError extends Error {
  readonly code: PolicyErrorCode;

  constructor(code: PolicyErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? DEFAULT_MESSAGES[code], options);
    this.name = "PolicyError";
    this.code = code;
  }
}

/** A resource specifier that does not follow the grammar; `position` is a character offset into `text`. */
export class SpecifierSyntaxError extends PolicyError {
  readonly text: string;
  readonly position: number;
  readonly expected: string;

  constructor(text: string, position: number, expected: string) {
    super("POLICY_ERR_BAD_SPECIFIER", `${expected} at position ${position} of ${quote(text)}`);
    this.name = "SpecifierSyntaxError";
    this.text = text;
    this.position = position;
    this.expected = expected;
  }
}

/** A policy (array of statements) with one or more errors; `issues` lists every one of them. */
export class InvalidPolicyError extends PolicyError {
  readonly issues: PolicyIssue[];

  constructor(issues: PolicyIssue[]) {
    super("POLICY_ERR_INVALID", summarise(issues));
    this.name = "InvalidPolicyError";
    this.issues = issues;
  }
}

const SUMMARY_LIMIT = 5;

function summarise(issues: readonly PolicyIssue[]): string {
  const shown = issues.slice(0, SUMMARY_LIMIT).map(describeIssue);
  const more = issues.length > SUMMARY_LIMIT ? `; and ${issues.length - SUMMARY_LIMIT} more` : "";
  const noun = issues.length === 1 ? "problem" : "problems";
  return `invalid policy (${issues.length} ${noun}): ${shown.join("; ")}${more}`;
}

/** One line naming where the issue is: JSON pointer, and the character position when there is one. */
export function describeIssue(issue: PolicyIssue): string {
  const where = issue.pointer === "" ? "policy" : issue.pointer;
  const at = issue.position === undefined ? "" : ` (position ${issue.position})`;
  return `${where}${at}: ${issue.message}`;
}

/** Quotes user text for a message, cut short so a huge input cannot flood a log line. */
export function quote(text: string, limit = 120): string {
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return JSON.stringify(cut);
}
