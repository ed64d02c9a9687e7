import type { EntryIssue, EntryIssueCode } from "./types";

/**
 * Collects issues and warnings while one entry (or body) is read, with JSON pointers (RFC 6901)
 * built only when something is reported: the common case, a good entry, builds none.
 */
export class IssueList {
  readonly issues: EntryIssue[] = [];
  readonly warnings: EntryIssue[] = [];

  issue(pointer: string, code: EntryIssueCode, message: string): void {
    this.issues.push({ pointer, code, message });
  }

  warn(pointer: string, code: EntryIssueCode, message: string): void {
    this.warnings.push({ pointer, code, message });
  }
}

/** `base` + one reference token, escaped as RFC 6901 says (`~` → `~0`, `/` → `~1`). */
export function pointerTo(base: string, token: string | number): string {
  if (typeof token === "number") return `${base}/${token}`;
  if (token.indexOf("~") === -1 && token.indexOf("/") === -1) return `${base}/${token}`;
  return `${base}/${token.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

/** A pointer from a stack of tokens (kept by walks that report rarely). */
export function pointerFrom(base: string, tokens: readonly (string | number)[]): string {
  let pointer = base;
  for (const token of tokens) pointer = pointerTo(pointer, token);
  return pointer;
}

/** Syntax check of a JSON pointer: "" or "/"-separated tokens whose `~` escapes are `~0` / `~1`. */
export function isJsonPointer(pointer: string): boolean {
  if (pointer === "") return true;
  if (pointer[0] !== "/") return false;
  for (let i = pointer.indexOf("~"); i !== -1; i = pointer.indexOf("~", i + 1)) {
    const next = pointer[i + 1];
    if (next !== "0" && next !== "1") return false;
  }
  return true;
}

const SHOWN_CHARS = 60;

/** A value as issue messages quote it: JSON, shortened, never more than ~60 characters. */
export function show(value: unknown): string {
  switch (typeof value) {
    case "string": {
      const cut = value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value;
      return `${JSON.stringify(cut)}${value.length > SHOWN_CHARS ? ` (${value.length} characters)` : ""}`;
    }
    case "number":
    case "boolean":
      return String(value);
    case "undefined":
      return "nothing";
    case "bigint":
      return `a bigint`;
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      if (value === null) return "null";
      if (Array.isArray(value)) return `an array of ${value.length}`;
      return "an object";
  }
}
