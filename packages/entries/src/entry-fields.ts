import { entryIdOf } from "./entry-id";
import { type IssueList, pointerTo, show } from "./issue-list";
import { escapeHtml, renderMarkdown } from "./markdown";
import { isPlainObject, REPORTED } from "./sanitiser";
import { isTimestampMs, MAX_TIMESTAMP_MS, timestampOf } from "./timestamp";
import type { Access, EntryEnvironment, EntryProject, EntryTimestamp, RichText } from "./types";

/**
 * Readers of the fields both shapes share. Each takes a sanitised value and the JSON pointer of the
 * field, reports what is wrong, and returns the normalised value, `undefined` for "absent" (a
 * null optional field is absent), or `REPORTED`. A value that needs no change is returned as is,
 * so a normalised entry normalises to itself without copying.
 */

export type FieldReader = (value: unknown, pointer: string, list: IssueList) => unknown;

/** The fields checked in both shapes (a field a shape does not use is still checked: one schema). */
const FIELDS: ReadonlyMap<string, FieldReader> = new Map<string, FieldReader>([
  ["kind", readKind],
  ["timestamp", readTimestamp],
  ["verbKind", readString],
  ["key", readString],
  ["name", readString],
  ["titleVerb", readString],
  ["comment", readString],
  ["description", readString],
  ["shortDescription", readString],
  ["title", readRichText],
  ["details", readRichText],
  ["project", readProject],
  ["member", readMember],
  ["tags", readStrings],
  ["accesses", readAccesses],
  ["target", readTarget],
]);

/**
 * Every field of a sanitised entry, in posted order: checked ones normalised, others as posted,
 * `_id` checked (or generated, then first). `kind` is required. `id` is undefined after an issue.
 */
export function readFields(
  source: Record<string, unknown>,
  pointer: string,
  list: IssueList,
): { out: Record<string, unknown>; id: { id: string; generated: boolean } | undefined } {
  const id = readId(source._id, pointerTo(pointer, "_id"), list);
  const out: Record<string, unknown> = {};
  if (id?.generated) out._id = id.id;
  for (const key of Object.keys(source)) {
    if (key === "_id") {
      if (id !== undefined) out._id = id.id;
      continue;
    }
    const value = source[key];
    const read = FIELDS.get(key);
    const clean = read === undefined ? value : read(value, pointerTo(pointer, key), list);
    if (clean !== undefined) out[key] = clean;
  }
  if (source.kind === undefined) readKind(undefined, pointerTo(pointer, "kind"), list);
  return { out, id };
}

export const MAX_KIND_LENGTH = 200;

/** The entry's `_id`, or a generated one when it has none; undefined after reporting a bad one. */
export function readId(
  value: unknown,
  pointer: string,
  list: IssueList,
): { id: string; generated: boolean } | undefined {
  if (value === REPORTED) return undefined;
  const result = entryIdOf(value, pointer);
  if (result.issue === undefined) return result;
  list.issues.push(result.issue);
  return undefined;
}

export function readKind(value: unknown, pointer: string, list: IssueList): string | typeof REPORTED {
  if (value === REPORTED) return REPORTED;
  if (value === undefined || value === null) {
    list.issue(pointer, "ENTRIES_ISSUE_REQUIRED", 'is required: the kind of resource changed, e.g. "flag"');
  } else if (typeof value !== "string") {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(value)}`);
  } else if (value.trim() === "") {
    list.issue(
      pointer,
      "ENTRIES_ISSUE_EMPTY",
      'must not be empty: the kind of resource changed, e.g. "flag"',
    );
  } else if (value.length > MAX_KIND_LENGTH) {
    list.issue(
      pointer,
      "ENTRIES_ISSUE_TOO_LONG",
      `must be at most ${MAX_KIND_LENGTH} characters; got ${value.length}`,
    );
  } else {
    return value;
  }
  return REPORTED;
}

/** An optional string; null means absent. */
export function readString(value: unknown, pointer: string, list: IssueList): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string" || value === REPORTED) return value;
  list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(value)}`);
  return REPORTED;
}

/** A list of strings; null and absent mean empty (LaunchDarkly's contexts hold `"tags": null`). */
export function readStrings(value: unknown, pointer: string, list: IssueList): string[] | typeof REPORTED {
  if (value === null || value === undefined) return [];
  if (value === REPORTED) return REPORTED;
  if (!Array.isArray(value)) {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be an array of strings; got ${show(value)}`);
    return REPORTED;
  }
  let bad = false;
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item === "string") continue;
    bad = true;
    if (item !== REPORTED)
      list.issue(pointerTo(pointer, i), "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(item)}`);
  }
  return bad ? REPORTED : (value as string[]);
}

/** `{milliseconds, seconds?, rfc3339?, simple?}` or bare epoch milliseconds; missing forms are filled. */
export function readTimestamp(
  value: unknown,
  pointer: string,
  list: IssueList,
): EntryTimestamp | typeof REPORTED {
  if (value === REPORTED) return REPORTED;
  if (typeof value === "number") return checkedMs(value, pointer, list) ? timestampOf(value) : REPORTED;
  if (!isPlainObject(value)) {
    list.issue(
      pointer,
      "ENTRIES_ISSUE_TYPE",
      `must be an object {milliseconds, seconds, rfc3339, simple} or epoch milliseconds; got ${show(value)}`,
    );
    return REPORTED;
  }
  const ms = value.milliseconds;
  let ok = true;
  if (ms === REPORTED) {
    ok = false;
  } else if (ms === undefined || ms === null) {
    list.issue(
      pointerTo(pointer, "milliseconds"),
      "ENTRIES_ISSUE_REQUIRED",
      "is required: epoch milliseconds",
    );
    ok = false;
  } else if (!checkedMs(ms, pointerTo(pointer, "milliseconds"), list)) ok = false;
  const { seconds, rfc3339, simple } = value;
  if (seconds !== undefined && typeof seconds !== "number" && seconds !== REPORTED) {
    list.issue(pointerTo(pointer, "seconds"), "ENTRIES_ISSUE_TYPE", `must be a number; got ${show(seconds)}`);
    ok = false;
  }
  for (const [name, form] of [
    ["rfc3339", rfc3339],
    ["simple", simple],
  ] as const) {
    if (form === undefined || typeof form === "string" || form === REPORTED) continue;
    list.issue(pointerTo(pointer, name), "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(form)}`);
    ok = false;
  }
  if (!ok || seconds === REPORTED || rfc3339 === REPORTED || simple === REPORTED) return REPORTED;
  // Forms given are kept as given: the framework's own samples do not always agree with themselves.
  if (seconds !== undefined && rfc3339 !== undefined && simple !== undefined)
    return value as unknown as EntryTimestamp;
  const filled = timestampOf(ms as number);
  // Object.assign, not a spread: the forms filled in are keys the copy gains (see readMember).
  return Object.assign({}, value, {
    milliseconds: filled.milliseconds,
    seconds: (seconds as number | undefined) ?? filled.seconds,
    rfc3339: (rfc3339 as string | undefined) ?? filled.rfc3339,
    simple: (simple as string | undefined) ?? filled.simple,
  }) as unknown as EntryTimestamp;
}

function checkedMs(value: unknown, pointer: string, list: IssueList): value is number {
  if (isTimestampMs(value)) return true;
  if (typeof value !== "number") {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be epoch milliseconds (a number); got ${show(value)}`);
  } else {
    list.issue(
      pointer,
      "ENTRIES_ISSUE_RANGE",
      `must be whole epoch milliseconds from 0 to ${MAX_TIMESTAMP_MS} (year 9999); got ${value}`,
    );
  }
  return false;
}

const EMPTY_TEXT: Readonly<RichText> = Object.freeze({ plainText: "", markdown: "", html: "" });

export function emptyRichText(): RichText {
  return { ...EMPTY_TEXT };
}

/**
 * `{plainText, markdown, html}`, or a Markdown string (the REST shape's `title`). Forms given are
 * kept; missing ones come from `markdown`, else from `plainText` (escaped for `html`).
 */
export function readRichText(value: unknown, pointer: string, list: IssueList): unknown {
  if (value === null || value === undefined) return undefined;
  if (value === REPORTED) return REPORTED;
  if (typeof value === "string") return renderMarkdown(value);
  if (!isPlainObject(value)) {
    list.issue(
      pointer,
      "ENTRIES_ISSUE_TYPE",
      `must be Markdown or an object {plainText, markdown, html}; got ${show(value)}`,
    );
    return REPORTED;
  }
  let bad = false;
  for (const form of ["plainText", "markdown", "html"] as const) {
    const text = value[form];
    if (text === undefined || text === null || typeof text === "string") continue;
    bad = true;
    if (text !== REPORTED)
      list.issue(pointerTo(pointer, form), "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(text)}`);
  }
  if (bad) return REPORTED;
  const { plainText, markdown, html } = value as Partial<Record<keyof RichText, string | null>>;
  if (typeof plainText === "string" && typeof markdown === "string" && typeof html === "string") return value;
  const rendered =
    typeof markdown === "string"
      ? renderMarkdown(markdown)
      : typeof plainText === "string"
        ? { plainText, markdown: plainText, html: escapeHtml(plainText) }
        : EMPTY_TEXT;
  // Object.assign, not a spread: the forms filled in are keys the copy gains (see readMember).
  return Object.assign({}, value, {
    plainText: plainText ?? rendered.plainText,
    markdown: markdown ?? rendered.markdown,
    html: html ?? rendered.html,
  });
}

/** `{key, name?, tags, environment?}`: `key` may be "" (LaunchDarkly's contexts say "no project" so). */
export function readProject(
  value: unknown,
  pointer: string,
  list: IssueList,
): EntryProject | undefined | typeof REPORTED {
  const project = readScope(value, pointer, list, "project");
  if (project === undefined || project === REPORTED) return project;
  const environment = readScope(project.environment, pointerTo(pointer, "environment"), list, "environment");
  if (environment === REPORTED) return REPORTED;
  if (environment === project.environment) return project as EntryProject;
  const copy: Record<string, unknown> = { ...project };
  if (environment === undefined) delete copy.environment;
  else copy.environment = environment;
  return copy as EntryProject;
}

function readScope(
  value: unknown,
  pointer: string,
  list: IssueList,
  what: "project" | "environment",
): EntryEnvironment | undefined | typeof REPORTED {
  if (value === null || value === undefined) return undefined;
  if (value === REPORTED) return REPORTED;
  if (!isPlainObject(value)) {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be an object {key, name, tags}; got ${show(value)}`);
    return REPORTED;
  }
  let bad = false;
  const key = value.key;
  if (key === undefined || key === null) {
    list.issue(
      pointerTo(pointer, "key"),
      "ENTRIES_ISSUE_REQUIRED",
      `is required: the ${what} key ("" for none)`,
    );
    bad = true;
  } else if (typeof key !== "string") {
    if (key !== REPORTED)
      list.issue(pointerTo(pointer, "key"), "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(key)}`);
    bad = true;
  }
  const name = readString(value.name, pointerTo(pointer, "name"), list);
  const tags = readStrings(value.tags, pointerTo(pointer, "tags"), list);
  if (bad || name === REPORTED || tags === REPORTED) return REPORTED;
  if (tags === value.tags && name === value.name) return value as EntryEnvironment;
  const copy: Record<string, unknown> = { ...value, tags };
  if (name === undefined) delete copy.name;
  return copy as EntryEnvironment;
}

/** Any object; `displayName` and `emailLocalPart` are filled when absent, as templates use them. */
export function readMember(value: unknown, pointer: string, list: IssueList): unknown {
  if (value === null || value === undefined) return undefined;
  if (value === REPORTED) return REPORTED;
  if (!isPlainObject(value)) {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be an object; got ${show(value)}`);
    return REPORTED;
  }
  const email = typeof value.email === "string" ? value.email : "";
  let displayName: string | undefined;
  if (value.displayName === undefined) {
    const first = typeof value.firstName === "string" ? value.firstName : "";
    const last = typeof value.lastName === "string" ? value.lastName : "";
    displayName = `${first} ${last}`.trim() || email || undefined;
  }
  const emailLocalPart = value.emailLocalPart === undefined && email !== "" ? email.split("@")[0] : undefined;
  if (displayName === undefined && emailLocalPart === undefined) return value;
  // Object.assign, not a spread: Node 20's V8 makes a new map for every spread copy that then
  // gains a key (~1.5 µs here, a fifth of reading an entry; Object.assign ~0.1 µs).
  const copy: Record<string, unknown> = Object.assign({}, value);
  if (displayName !== undefined) copy.displayName = displayName;
  if (emailLocalPart !== undefined) copy.emailLocalPart = emailLocalPart;
  return copy;
}

/** A non-empty array of `{action, resource}`, both non-empty strings; extra fields are kept. */
export function readAccesses(
  value: unknown,
  pointer: string,
  list: IssueList,
): Access[] | undefined | typeof REPORTED {
  if (value === null || value === undefined) return undefined;
  if (value === REPORTED) return REPORTED;
  if (!Array.isArray(value)) {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be an array of {action, resource}; got ${show(value)}`);
    return REPORTED;
  }
  if (value.length === 0) {
    list.issue(pointer, "ENTRIES_ISSUE_EMPTY", "must hold at least one {action, resource}, or be left out");
    return REPORTED;
  }
  let bad = false;
  for (let i = 0; i < value.length; i++) {
    const access: unknown = value[i];
    if (access === REPORTED) {
      bad = true;
      continue;
    }
    if (!isPlainObject(access)) {
      list.issue(
        pointerTo(pointer, i),
        "ENTRIES_ISSUE_TYPE",
        `must be an object {action, resource}; got ${show(access)}`,
      );
      bad = true;
      continue;
    }
    for (const field of ["action", "resource"] as const) {
      const text = access[field];
      if (typeof text === "string" && text !== "") continue;
      bad = true;
      if (text === REPORTED) continue;
      const at = pointerTo(pointerTo(pointer, i), field);
      if (text === undefined || text === null) list.issue(at, "ENTRIES_ISSUE_REQUIRED", "is required");
      else if (text === "") list.issue(at, "ENTRIES_ISSUE_EMPTY", "must not be empty");
      else list.issue(at, "ENTRIES_ISSUE_TYPE", `must be a string; got ${show(text)}`);
    }
  }
  return bad ? REPORTED : (value as Access[]);
}

/** `target` is kept as posted; only `target.resources`, which the REST conversion reads, is checked. */
function readTarget(value: unknown, pointer: string, list: IssueList): unknown {
  if (value === null || value === undefined) return undefined;
  if (value === REPORTED) return REPORTED;
  if (!isPlainObject(value)) {
    list.issue(pointer, "ENTRIES_ISSUE_TYPE", `must be an object {name, resources}; got ${show(value)}`);
    return REPORTED;
  }
  return readStrings(value.resources, pointerTo(pointer, "resources"), list) === REPORTED ? REPORTED : value;
}
