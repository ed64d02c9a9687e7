import type { ReadEntry } from "./context-entry";
import { emptyRichText, readFields } from "./entry-fields";
import { type IssueList, pointerTo, show } from "./issue-list";
import { renderMarkdown } from "./markdown";
import { type ResourceLevel, resourceLevels, resourceTypeOf } from "./resource";
import { isPlainObject, REPORTED } from "./sanitiser";
import { isTimestampMs, timestampOf } from "./timestamp";
import type { Access, Entry, EntryProject, RichText } from "./types";

/**
 * Shape 2, LaunchDarkly's REST audit-log entry (`GET /api/v2/auditlog/{id}`), converted to shape 1.
 * Required: `kind` and `date` (epoch milliseconds). Every posted field is kept; these are added
 * unless the entry already has them (a field given wins over one derived):
 *
 *   timestamp  from `date`
 *   title      `{plainText, markdown, html}` from the Markdown `title`
 *   details    the same from `description` (all "" when there is none, as in the framework)
 *   verbKind   the first access's action
 *   project    `{key, name, tags, environment{key, name, tags}}` from the resource of the entry's
 *              target (`target.resources`, else `accesses[].resource`): the first one whose last
 *              level is of the entry's kind, else the first; "" and [] where the resource says
 *              nothing. Names come from `target.name` (project and environment entries) or from
 *              `parent` when it names the same project or environment.
 *   key, tags  the last level of that resource
 *   member     gains `displayName` ("first last", else the email) and `emailLocalPart`
 *   baseURL    https://app.launchdarkly.com; the REST API's links are relative (`/api/v2/…`) where
 *              the context's are absolute, so the hrefs of `_links`, `target._links` and
 *              `member._links` are prefixed with it, and `_links.details` (the change's page) is
 *              added. Post `baseURL` with the entry for another LaunchDarkly instance.
 */

export function readRestEntry(
  source: Record<string, unknown>,
  pointer: string,
  list: IssueList,
): ReadEntry | undefined {
  const before = list.issues.length;
  const { out, id } = readFields(source, pointer, list);
  const date = source.date;
  if (!isTimestampMs(date) && date !== REPORTED) {
    // readTimestamp words the problem as for a timestamp; say it of `date`.
    const problem =
      typeof date === "number"
        ? `must be whole epoch milliseconds from 0 to the year 9999; got ${date}`
        : `must be epoch milliseconds (a number); got ${show(date)}`;
    list.issue(
      pointerTo(pointer, "date"),
      typeof date === "number" ? "ENTRIES_ISSUE_RANGE" : "ENTRIES_ISSUE_TYPE",
      problem,
    );
  }
  if (list.issues.length > before || id === undefined) return undefined;

  const kind = out.kind as string;
  out.timestamp = timestampOf(date as number);
  const accesses = out.accesses as Access[] | undefined;
  if (out.verbKind === undefined && accesses !== undefined) out.verbKind = accesses[0]!.action;
  if (out.details === undefined) out.details = detailsOf(out.description);

  const levels = resourceLevels(targetResource(kind, out.target, accesses) ?? "");
  const last = levels[levels.length - 1];
  const own =
    last !== undefined && (last.type === resourceTypeOf(kind) || !SCOPE_TYPES.has(last.type))
      ? last
      : undefined;
  if (out.key === undefined && own !== undefined) out.key = own.key;
  if (out.tags === undefined) out.tags = own?.tags ?? [];
  if (out.project === undefined) out.project = projectOf(kind, levels, out);
  linkAbsolutely(out, id.id);
  return { entry: out as Entry, idGenerated: id.generated };
}

const SCOPE_TYPES: ReadonlySet<string> = new Set(["proj", "env"]);

function detailsOf(description: unknown): RichText {
  return typeof description === "string" ? renderMarkdown(description) : emptyRichText();
}

/** The resource the entry is about: of its kind when one is, else the first named anywhere. */
function targetResource(
  kind: string,
  target: unknown,
  accesses: readonly Access[] | undefined,
): string | undefined {
  const candidates: string[] = [];
  if (isPlainObject(target) && Array.isArray(target.resources))
    candidates.push(...(target.resources as string[]));
  if (accesses !== undefined) for (const access of accesses) candidates.push(access.resource);
  const type = resourceTypeOf(kind);
  for (const resource of candidates) {
    const levels = resourceLevels(resource);
    if (levels[levels.length - 1]?.type === type) return resource;
  }
  return candidates[0];
}

function projectOf(
  kind: string,
  levels: readonly ResourceLevel[],
  entry: Record<string, unknown>,
): EntryProject {
  const project = levels.find((level) => level.type === "proj");
  const environment = levels.find((level) => level.type === "env");
  const targetName =
    isPlainObject(entry.target) && typeof entry.target.name === "string" ? entry.target.name : undefined;
  const parent = parentLevel(entry.parent);
  const nameOf = (level: ResourceLevel | undefined, type: "proj" | "env"): string => {
    if (level === undefined) return "";
    if (resourceTypeOf(kind) === type)
      return targetName ?? (typeof entry.name === "string" ? entry.name : "");
    return parent !== undefined && parent.level.type === type && parent.level.key === level.key
      ? parent.name
      : "";
  };
  return {
    key: project?.key ?? "",
    name: nameOf(project, "proj"),
    tags: project?.tags ?? [],
    environment: {
      key: environment?.key ?? "",
      name: nameOf(environment, "env"),
      tags: environment?.tags ?? [],
    },
  };
}

/** `parent: {name, resource}`: the project or environment a nested resource lives in. */
function parentLevel(parent: unknown): { level: ResourceLevel; name: string } | undefined {
  if (!isPlainObject(parent) || typeof parent.resource !== "string" || typeof parent.name !== "string")
    return undefined;
  const levels = resourceLevels(parent.resource);
  const level = levels[levels.length - 1];
  return level === undefined ? undefined : { level, name: parent.name };
}

export const DEFAULT_BASE_URL = "https://app.launchdarkly.com";

const BASE_URL = /^https?:\/\/[^/?#\s]+(?:\/[^?#\s]*)?$/;
const MAX_BASE_URL_LENGTH = 2048;

/** The posted `baseURL` without trailing slashes when it is an http(s) URL, else LaunchDarkly's. */
function baseUrlOf(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_BASE_URL_LENGTH || !BASE_URL.test(value))
    return DEFAULT_BASE_URL;
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end--;
  return value.slice(0, end);
}

function linkAbsolutely(entry: Record<string, unknown>, id: string): void {
  const base = baseUrlOf(entry.baseURL);
  if (entry.baseURL === undefined) entry.baseURL = base;
  if (entry._links === undefined || isPlainObject(entry._links)) {
    const links = absoluteLinks(entry._links, base) ?? {};
    entry._links =
      links.details === undefined
        ? { ...links, details: { href: `${base}/settings/history/${id}/details`, type: "text/html" } }
        : links;
  }
  for (const field of ["target", "member"] as const) {
    const holder = entry[field];
    if (!isPlainObject(holder)) continue;
    const absolute = absoluteLinks(holder._links, base);
    if (absolute !== undefined && absolute !== holder._links) entry[field] = { ...holder, _links: absolute };
  }
}

/** `{name: {href, type}}` with every root-relative href made absolute; the same object when none is. */
function absoluteLinks(links: unknown, base: string): Record<string, unknown> | undefined {
  if (!isPlainObject(links)) return undefined;
  let copy: Record<string, unknown> | undefined;
  for (const name of Object.keys(links)) {
    const link = links[name];
    if (!isPlainObject(link) || typeof link.href !== "string") continue;
    if (!link.href.startsWith("/") || link.href.startsWith("//")) continue;
    copy ??= { ...links };
    copy[name] = { ...link, href: base + link.href };
  }
  return copy ?? links;
}
