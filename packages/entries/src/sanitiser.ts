import { type IssueList, pointerFrom, show } from "./issue-list";
import type { EntryLimits } from "./types";

/**
 * The one walk over every value of a posted entry, before any field is read. It
 *  - drops the keys `__proto__`, `constructor` and `prototype` wherever they are (each with a
 *    warning), so that no later merge, template or lookup can reach a prototype through them;
 *  - bounds nesting depth, string (and key) length and the number of values, so that a hostile
 *    entry costs no more than a plain one to refuse;
 *  - refuses values JSON cannot hold (only in-process callers can pass them), and treats an
 *    `undefined` property as absent, as JSON.stringify does.
 * Subtrees it does not change are shared, not copied: a good entry costs one read-only pass.
 * A value it reported is replaced by `REPORTED`, so that field checks do not report it twice;
 * an entry with any issue is refused, so `REPORTED` never leaves the package.
 */

export const REPORTED: unique symbol = Symbol("reported");

export const DEFAULT_LIMITS: Readonly<EntryLimits> = Object.freeze({
  maxDepth: 64, // LaunchDarkly's deepest reps (flag rules in `delta`) nest about 10 levels
  maxStringLength: 256 * 1024, // characters; Markdown descriptions of big changes stay well below
  maxValues: 200_000, // a 1 MiB JSON body holds at most ~100k values
} satisfies EntryLimits);

const DROPPED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function isDroppedKey(key: string): boolean {
  return DROPPED_KEYS.has(key);
}

/** A JSON object as JSON.parse makes it (or with a null prototype); never an instance of a class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function sanitise(value: unknown, pointer: string, limits: EntryLimits, list: IssueList): unknown {
  return new Walk(pointer, limits, list).value(value, 0);
}

class Walk {
  private readonly tokens: (string | number)[] = [];
  private values = 0;
  private overBudget = false;

  constructor(
    private readonly base: string,
    private readonly limits: EntryLimits,
    private readonly list: IssueList,
  ) {}

  private here(): string {
    return pointerFrom(this.base, this.tokens);
  }

  value(value: unknown, depth: number): unknown {
    if (this.overBudget) return REPORTED;
    if (++this.values > this.limits.maxValues) {
      this.overBudget = true;
      this.list.issue(this.base, "ENTRIES_ISSUE_TOO_BIG", `holds more than ${this.limits.maxValues} values`);
      return REPORTED;
    }
    switch (typeof value) {
      case "string":
        if (value.length <= this.limits.maxStringLength) return value;
        this.list.issue(
          this.here(),
          "ENTRIES_ISSUE_TOO_LONG",
          `is ${value.length} characters long, more than the limit of ${this.limits.maxStringLength}`,
        );
        return REPORTED;
      case "number":
        if (Number.isFinite(value)) return value;
        this.list.issue(this.here(), "ENTRIES_ISSUE_NOT_JSON", `must be a finite number; got ${value}`);
        return REPORTED;
      case "boolean":
        return value;
      case "object":
        if (value === null) return value;
        if (depth > this.limits.maxDepth) {
          this.list.issue(
            this.here(),
            "ENTRIES_ISSUE_TOO_DEEP",
            `nests deeper than ${this.limits.maxDepth} levels of objects and arrays`,
          );
          return REPORTED;
        }
        if (Array.isArray(value)) return this.array(value, depth);
        if (isPlainObject(value)) return this.object(value, depth);
        break;
    }
    this.list.issue(this.here(), "ENTRIES_ISSUE_NOT_JSON", `is not a JSON value; got ${show(value)}`);
    return REPORTED;
  }

  private array(items: readonly unknown[], depth: number): unknown[] {
    let copy: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      this.tokens.push(i);
      const clean = item === undefined ? this.undefinedItem() : this.value(item, depth + 1);
      this.tokens.pop();
      if (copy !== undefined) copy.push(clean);
      else if (clean !== item) {
        copy = items.slice(0, i);
        copy.push(clean);
      }
    }
    return copy ?? (items as unknown[]);
  }

  private undefinedItem(): typeof REPORTED {
    this.list.issue(this.here(), "ENTRIES_ISSUE_NOT_JSON", "is not a JSON value; got nothing (undefined)");
    return REPORTED;
  }

  private object(source: Record<string, unknown>, depth: number): Record<string, unknown> {
    const keys = Object.keys(source);
    let copy: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = source[key];
      let clean: unknown;
      if (DROPPED_KEYS.has(key)) {
        this.tokens.push(key);
        this.list.warn(
          this.here(),
          "ENTRIES_WARN_DROPPED_KEY",
          `the key ${show(key)} is dropped: it could reach a prototype`,
        );
        this.tokens.pop();
      } else if (key.length > this.limits.maxStringLength) {
        this.list.issue(
          pointerFrom(this.base, this.tokens),
          "ENTRIES_ISSUE_TOO_LONG",
          `has a key ${key.length} characters long, more than the limit of ${this.limits.maxStringLength}: ${show(key)}`,
        );
        clean = REPORTED;
      } else if (item !== undefined) {
        this.tokens.push(key);
        clean = this.value(item, depth + 1);
        this.tokens.pop();
      }
      const keep = clean !== undefined;
      if (copy !== undefined) {
        if (keep) copy[key] = clean;
      } else if (!keep || clean !== item) {
        copy = {};
        for (let j = 0; j < i; j++) copy[keys[j]!] = source[keys[j]!];
        if (keep) copy[key] = clean;
      }
    }
    return copy ?? source;
  }
}
