/**
 * An entry's accesses: its own `accesses` array when it has one (REST audit-log entries do), or
 * else one access derived from the template-context fields:
 *   kind → resource type (project → proj, environment → env, others by name),
 *   project.key / project.environment.key / key → the keys along the type's hierarchy,
 *   project.tags / project.environment.tags / tags → the tags of those levels,
 *   verbKind → the action.
 * An environment key of `~` means "all environments" (LaunchDarkly's flag-level changes: create,
 * archive, rename…). It becomes the literal key `*`, as LaunchDarkly writes such accesses
 * (`proj/default:env/*:flag/x`): `env/*` in a policy matches it, `env/production` does not, so a
 * change that is not specific to production does not reach a production-only hook.
 * A missing key is `*` too, so it matches only a specifier that accepts any key.
 */
import { RESOURCE_TYPES } from "./catalog";
import { printSpecifier, type ResourceLevel } from "./specifier";
import type { Access, EntryLike } from "./types";

/** Entry kinds that are not spelt like their resource type (camelCase kinds, long names). */
const KIND_TYPES: Readonly<Record<string, string>> = {
  project: "proj",
  environment: "env",
  account: "acct",
  metricGroup: "metric-group",
  contextKind: "context-kind",
  releasePipeline: "release-pipeline",
  aiConfig: "aiconfig",
  customRole: "role",
  serviceToken: "service-token",
  relayProxyConfig: "relay-proxy-config",
  codeReferenceRepository: "code-reference-repository",
  domainVerification: "domain-verification",
  pendingRequest: "pending-request",
};

const ALL = "*";
const ALL_ENVIRONMENTS = "~";

export function accessesOf(entry: EntryLike): Access[] {
  if (typeof entry !== "object" || entry === null) return [];
  const given = givenAccesses(entry.accesses);
  if (given.length > 0) return given;
  const resource = derivedResource(entry);
  if (resource === null) return [];
  const action = nonEmpty(entry.verbKind) ?? ALL;
  return [{ resource, action }];
}

function givenAccesses(value: unknown): Access[] {
  if (!Array.isArray(value)) return [];
  const accesses: Access[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) continue;
    const { resource, action } = item as Record<string, unknown>;
    if (typeof resource === "string" && typeof action === "string") accesses.push({ resource, action });
  }
  return accesses;
}

function derivedResource(entry: EntryLike): string | null {
  const kind = nonEmpty(entry.kind);
  if (kind === undefined) return null;
  const type = KIND_TYPES[kind] ?? kind;
  if (type === "acct") return "acct";
  const project = entry.project ?? undefined;
  const environment = project?.environment ?? undefined;
  const ownKey = nonEmpty(entry.key) ?? keyFromTarget(entry);
  const ownTags = tagsOf(entry.tags);
  const levels: ResourceLevel[] = [];
  for (const levelType of lineage(type)) {
    const own = levelType === type;
    if (levelType === "proj") {
      const key = (own ? ownKey : undefined) ?? nonEmpty(project?.key) ?? ALL;
      levels.push({ type: levelType, key, tags: merge(tagsOf(project?.tags), own ? ownTags : []) });
    } else if (levelType === "env") {
      const key = environmentKey((own ? ownKey : undefined) ?? nonEmpty(environment?.key));
      levels.push({ type: levelType, key, tags: merge(tagsOf(environment?.tags), own ? ownTags : []) });
    } else if (own) {
      levels.push({ type: levelType, key: ownKey ?? ALL, tags: ownTags });
    } else {
      // An owner the entry does not name (a token's member): any.
      levels.push({ type: levelType, key: ALL, tags: [] });
    }
  }
  return printSpecifier({ kind: "path", levels });
}

/** The type and its ancestors, top first: flag → [proj, env, flag]; an unknown type stands alone. */
function lineage(type: string): string[] {
  const chain: string[] = [];
  let current: string | null = type;
  while (current !== null && chain.length < 8) {
    chain.unshift(current);
    current = RESOURCE_TYPES[current]?.parent ?? null;
  }
  return chain;
}

function environmentKey(key: string | undefined): string {
  return key === undefined || key === ALL_ENVIRONMENTS ? ALL : key;
}

/** Member and webhook entries carry their key only in the target's API link (`…/members/<id>`). */
function keyFromTarget(entry: EntryLike): string | undefined {
  const href = entry.target?._links?.canonical?.href;
  if (typeof href !== "string") return undefined;
  const path = href.split(/[?#]/, 1)[0] ?? "";
  const last = path.slice(path.lastIndexOf("/") + 1);
  return nonEmpty(safeDecode(last));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function tagsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((tag): tag is string => typeof tag === "string" && tag.length > 0);
}

function merge(a: readonly string[], b: readonly string[]): string[] {
  return b.length === 0 ? [...new Set(a)] : [...new Set([...a, ...b])];
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
