/**
 * Compiles a policy once (per hook) and evaluates accesses against it: any matching deny wins,
 * otherwise any matching allow, otherwise deny. Statement order does not matter, except that
 * `explain` names the lowest-numbered deciding statement.
 *
 * The hot path (`allows`) allocates nothing: the resource string is parsed through a shared
 * cache, literal actions are a Set lookup, and every pattern was compiled to a linear-time Glob.
 */
import { type ConcreteResource, concreteResource } from "./concrete-resource";
import { InvalidPolicyError } from "./errors";
import { Glob } from "./glob";
import { ResourceMatcher } from "./resource-matcher";
import type { Access, CompiledPolicy, Decision, Effect, PolicyIssue } from "./types";
import { type CheckedStatement, checkPolicy } from "./validation";

/** Throws InvalidPolicyError (code POLICY_ERR_INVALID) listing every problem in `.issues`. */
export function compilePolicy(statements: unknown): CompiledPolicy {
  const check = checkPolicy(statements);
  if (check.errors.length > 0) throw new InvalidPolicyError(check.errors);
  return new Policy(
    check.statements.map((s) => new CompiledStatement(s)),
    check.warnings,
  );
}

class CompiledStatement {
  readonly index: number;
  readonly effect: Effect;
  private readonly negateResources: boolean;
  private readonly resources: readonly ResourceMatcher[];
  private readonly negateActions: boolean;
  private readonly anyAction: boolean;
  private readonly literalActions: ReadonlySet<string>;
  private readonly actionGlobs: readonly Glob[];

  constructor(statement: CheckedStatement) {
    this.index = statement.index;
    this.effect = statement.effect;
    this.negateResources = statement.negateResources;
    this.resources = statement.resources.map((specifier) => new ResourceMatcher(specifier));
    this.negateActions = statement.negateActions;
    const globs = statement.actions.map((action) => new Glob(action));
    this.anyAction = globs.some((glob) => glob.matchesEverything);
    this.literalActions = new Set(globs.filter((glob) => !glob.isWildcard).map((glob) => glob.source));
    this.actionGlobs = globs.filter((glob) => glob.isWildcard);
  }

  applies(resource: ConcreteResource, action: string): boolean {
    return this.matchesAction(action) && this.matchesResource(resource);
  }

  private listsAction(action: string): boolean {
    if (this.anyAction || this.literalActions.has(action)) return true;
    const globs = this.actionGlobs;
    for (let i = 0; i < globs.length; i++) {
      if (globs[i]!.match(action)) return true;
    }
    return false;
  }

  private listsResource(resource: ConcreteResource): boolean {
    const matchers = this.resources;
    for (let i = 0; i < matchers.length; i++) {
      if (matchers[i]!.matches(resource)) return true;
    }
    return false;
  }

  matchesAction(action: string): boolean {
    return this.listsAction(action) !== this.negateActions;
  }

  matchesResource(resource: ConcreteResource): boolean {
    return this.listsResource(resource) !== this.negateResources;
  }

  /** Why this statement applies, e.g. `resource matches "proj/*", action matches "*"`. */
  describeMatch(resource: ConcreteResource, action: string): string {
    const resourcePart = this.negateResources
      ? `resource is not in notResources [${this.resources.map((m) => JSON.stringify(m.text)).join(", ")}]`
      : `resource matches ${JSON.stringify(this.resources.find((m) => m.matches(resource))?.text)}`;
    const actionPart = this.negateActions
      ? `action ${JSON.stringify(action)} is not in notActions`
      : `action ${JSON.stringify(action)} matches ${JSON.stringify(this.matchingAction(action))}`;
    return `${resourcePart}; ${actionPart}`;
  }

  /** Why this statement does not apply. */
  describeMiss(resource: ConcreteResource, action: string): string {
    if (!this.matchesAction(action)) {
      return this.negateActions
        ? `action ${JSON.stringify(action)} is excluded by notActions ${JSON.stringify(this.matchingAction(action))}`
        : `action ${JSON.stringify(action)} is not among its actions`;
    }
    if (this.negateResources) {
      const excluding = this.resources.find((m) => m.matches(resource));
      return `resource is excluded by notResources ${JSON.stringify(excluding?.text)}`;
    }
    const reasons = this.resources.map((m) => `${JSON.stringify(m.text)}: ${m.mismatch(resource)}`);
    return `resource matches none of its resources (${reasons.join("; ")})`;
  }

  private matchingAction(action: string): string | undefined {
    if (this.anyAction) return "*";
    if (this.literalActions.has(action)) return action;
    return this.actionGlobs.find((glob) => glob.match(action))?.source;
  }
}

class Policy implements CompiledPolicy {
  readonly warnings: readonly PolicyIssue[];
  private readonly statements: readonly CompiledStatement[];
  private readonly denies: readonly CompiledStatement[];
  private readonly grants: readonly CompiledStatement[];

  constructor(statements: CompiledStatement[], warnings: PolicyIssue[]) {
    this.statements = statements;
    this.denies = statements.filter((s) => s.effect === "deny");
    this.grants = statements.filter((s) => s.effect === "allow");
    this.warnings = Object.freeze(warnings);
  }

  allows(access: Access): boolean {
    const { resource: text, action } = access;
    if (typeof text !== "string" || typeof action !== "string") return false;
    const resource = concreteResource(text);
    if (resource.kind === "problem") return false;
    const denies = this.denies;
    for (let i = 0; i < denies.length; i++) {
      if (denies[i]!.applies(resource, action)) return false;
    }
    const grants = this.grants;
    for (let i = 0; i < grants.length; i++) {
      if (grants[i]!.applies(resource, action)) return true;
    }
    return false;
  }

  allowsAny(accesses: readonly Access[]): boolean {
    for (let i = 0; i < accesses.length; i++) {
      if (this.allows(accesses[i]!)) return true;
    }
    return false;
  }

  denyingStatement(accesses: readonly Access[]): number | null {
    for (const { resource: text, action } of accesses) {
      if (typeof text !== "string" || typeof action !== "string") continue;
      const resource = concreteResource(text);
      if (resource.kind === "problem") continue;
      const decider = this.denies.find((s) => s.applies(resource, action));
      if (decider !== undefined) return decider.index;
    }
    return null;
  }

  explain(access: Access): Decision {
    const { resource: text, action } = access;
    if (typeof text !== "string" || typeof action !== "string") {
      return undecided("the access needs a string resource and a string action");
    }
    const resource = concreteResource(text);
    if (resource.kind === "problem") {
      return undecided(
        `resource ${JSON.stringify(text)} is not a valid resource (${resource.expected} at position ${resource.position}), so nothing matches it`,
      );
    }
    const decider =
      this.denies.find((s) => s.applies(resource, action)) ??
      this.grants.find((s) => s.applies(resource, action));
    if (decider !== undefined) {
      const verb = decider.effect === "deny" ? "denied" : "allowed";
      return {
        allowed: decider.effect === "allow",
        statementIndex: decider.index,
        effect: decider.effect,
        reason: `${verb} by statement ${decider.index}: ${decider.describeMatch(resource, action)}`,
      };
    }
    const misses = this.statements.map((s) => `statement ${s.index}: ${s.describeMiss(resource, action)}`);
    return undecided(`no statement matches, so denied by default (${misses.join("; ")})`);
  }
}

function undecided(reason: string): Decision {
  return { allowed: false, statementIndex: null, effect: null, reason };
}
