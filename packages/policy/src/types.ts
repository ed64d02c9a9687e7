/**
 * Words (see ARCHITECTURE.md):
 * - statement: one `{effect, resources | notResources, actions | notActions}` object of a policy.
 * - policy: an array of statements; LaunchDarkly's role-policy language.
 * - resource specifier: `type/key;tag,tag:type/key…` or the bare `acct`; in a statement `*` globs
 *   keys and tags, in an access's resource (a "concrete" resource) every character is literal.
 * - access: one `(action, resource)` pair of an entry, e.g. `updateOn` on
 *   `proj/default:env/production:flag/demo-flag`.
 * - entry: one audit log entry; it goes to a hook when its policy allows at least one access.
 */

export type Effect = "allow" | "deny";

export interface Statement {
  effect?: Effect;
  resources?: string[];
  notResources?: string[];
  actions?: string[];
  notActions?: string[];
}

export interface Access {
  resource: string;
  action: string;
}

/** Which statement decided an access. `statementIndex` is null when no statement matched (default deny). */
export interface Decision {
  allowed: boolean;
  statementIndex: number | null;
  effect: Effect | null;
  reason: string;
}

/**
 * One problem found in a policy. `statementIndex` is -1 for problems with the policy as a whole
 * (not an array, empty). `pointer` is a JSON pointer into the statements array, e.g.
 * "/0/resources/1"; `position` a character offset in the specifier or action named by `pointer`.
 */
export interface PolicyIssue {
  code: string;
  statementIndex: number;
  pointer: string;
  position?: number;
  message: string;
}

/** A policy compiled once (per hook), then evaluated for every access of every entry. */
export interface CompiledPolicy {
  allows(access: Access): boolean;
  allowsAny(accesses: readonly Access[]): boolean;
  explain(access: Access): Decision;
  /**
   * For accesses none of which is allowed: the deny statement that refused one of them (its
   * index), or null when no statement matched any (denied by default). Cheaper than `explain`:
   * no text is built.
   */
  denyingStatement(accesses: readonly Access[]): number | null;
  /** Unknown resource types and action names, each naming the nearest known one. */
  readonly warnings: readonly PolicyIssue[];
}

/** The fields of an entry that its accesses are derived from (both entry shapes have them). */
export interface EntryLike {
  kind?: string;
  key?: string;
  verbKind?: string;
  tags?: string[] | null;
  accesses?: Access[] | unknown;
  project?: {
    key?: string;
    tags?: string[] | null;
    environment?: { key?: string; tags?: string[] | null } | null;
  } | null;
  /** Used only for the key when `key` is absent (member and webhook entries carry it only here). */
  target?: { _links?: { canonical?: { href?: string } } };
}
