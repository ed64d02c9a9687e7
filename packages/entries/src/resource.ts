/**
 * Reading a concrete resource of a REST audit-log entry (`target.resources[]`, `accesses[].resource`),
 * e.g. `proj/mobile;ios:env/production;critical:flag/checkout;ops,security`, for the fields the
 * template context carries: project key and tags, environment key and tags, the entry's key and
 * tags. It is a lenient reading for field extraction, not the policy grammar (that lives in
 * @hookwire/policy, which checks statements): a level it cannot read is skipped, never thrown.
 */

export interface ResourceLevel {
  type: string;
  key: string;
  tags: string[];
}

/** The levels of a resource, outermost first; `acct` and unreadable levels are left out. */
export function resourceLevels(resource: string): ResourceLevel[] {
  const levels: ResourceLevel[] = [];
  for (const part of resource.split(":")) {
    const slash = part.indexOf("/");
    if (slash <= 0) continue;
    const type = part.slice(0, slash);
    const rest = part.slice(slash + 1);
    const semicolon = rest.indexOf(";");
    const key = semicolon === -1 ? rest : rest.slice(0, semicolon);
    if (key === "") continue;
    const tags =
      semicolon === -1
        ? []
        : rest
            .slice(semicolon + 1)
            .split(",")
            .filter((tag) => tag !== "");
    levels.push({ type, key, tags });
  }
  return levels;
}

/** The resource type naming an entry kind: `proj` and `env` are abbreviated, others are the kind. */
export function resourceTypeOf(kind: string): string {
  if (kind === "project") return "proj";
  if (kind === "environment") return "env";
  return kind;
}
