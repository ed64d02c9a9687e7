/**
 * Checks a policy (unknown JSON) and reports every problem at once, each with a JSON pointer into
 * the statements array and, inside a specifier or action, a character position. Errors make the
 * policy unusable; warnings (unknown resource types or action names, misplaced types) do not,
 * because matching is by the strings written and LaunchDarkly adds names over time.
 */
import { actionsFor, childTypes, isKnownType, pathOf, RESOURCE_TYPES } from "./catalog";
import { quote } from "./errors";
import { Glob } from "./glob";
import { nearestName } from "./nearest-name";
import { printSpecifier, type ResourceSpecifier, readSpecifier } from "./specifier";
import type { Effect, PolicyIssue } from "./types";

export type PolicyIssueCode =
  | "POLICY_ERR_NOT_ARRAY"
  | "POLICY_ERR_EMPTY"
  | "POLICY_ERR_NOT_OBJECT"
  | "POLICY_ERR_UNKNOWN_FIELD"
  | "POLICY_ERR_BAD_EFFECT"
  | "POLICY_ERR_MISSING_LIST"
  | "POLICY_ERR_BOTH_LISTS"
  | "POLICY_ERR_NOT_LIST"
  | "POLICY_ERR_EMPTY_LIST"
  | "POLICY_ERR_NOT_STRING"
  | "POLICY_ERR_BAD_SPECIFIER"
  | "POLICY_ERR_BAD_ACTION"
  | "POLICY_WARN_UNKNOWN_TYPE"
  | "POLICY_WARN_MISPLACED_TYPE"
  | "POLICY_WARN_UNKNOWN_ACTION";

/** A statement that passed validation, with its defaults filled in and its specifiers parsed. */
export interface CheckedStatement {
  readonly index: number;
  readonly effect: Effect;
  /** True for `notResources`: the statement applies to every resource except those listed. */
  readonly negateResources: boolean;
  readonly resources: readonly ResourceSpecifier[];
  /** True for `notActions`. */
  readonly negateActions: boolean;
  readonly actions: readonly string[];
}

export interface PolicyCheck {
  errors: PolicyIssue[];
  warnings: PolicyIssue[];
  /** Only meaningful when `errors` is empty. */
  statements: CheckedStatement[];
}

const FIELDS = ["effect", "resources", "notResources", "actions", "notActions"];

export function validatePolicy(statements: unknown): { errors: PolicyIssue[]; warnings: PolicyIssue[] } {
  const { errors, warnings } = checkPolicy(statements);
  return { errors, warnings };
}

export function checkPolicy(statements: unknown): PolicyCheck {
  const check: PolicyCheck = { errors: [], warnings: [], statements: [] };
  if (!Array.isArray(statements)) {
    check.errors.push(
      issue("POLICY_ERR_NOT_ARRAY", -1, "", `a policy is an array of statements, not ${kindOf(statements)}`),
    );
    return check;
  }
  if (statements.length === 0) {
    check.errors.push(
      issue(
        "POLICY_ERR_EMPTY",
        -1,
        "",
        "a policy needs at least one statement (an empty one denies everything)",
      ),
    );
    return check;
  }
  // Indexed loops, not forEach: a sparse array's holes must be reported, not skipped.
  for (let index = 0; index < statements.length; index++) {
    const checked = checkStatement(statements[index], index, check);
    if (checked !== null) check.statements.push(checked);
  }
  return check;
}

function checkStatement(statement: unknown, index: number, check: PolicyCheck): CheckedStatement | null {
  const at = `/${index}`;
  if (typeof statement !== "object" || statement === null || Array.isArray(statement)) {
    check.errors.push(
      issue("POLICY_ERR_NOT_OBJECT", index, at, `a statement is an object, not ${kindOf(statement)}`),
    );
    return null;
  }
  const fields = statement as Record<string, unknown>;
  const errorsBefore = check.errors.length;
  for (const name of Object.keys(fields)) {
    if (!FIELDS.includes(name)) {
      const hint = nearestName(name, FIELDS);
      check.errors.push(
        issue(
          "POLICY_ERR_UNKNOWN_FIELD",
          index,
          `${at}/${escapePointer(name)}`,
          `unknown field ${quote(name)}; did you mean "${hint}"?`,
        ),
      );
    }
  }
  let effect: Effect = "allow";
  if (fields.effect !== undefined) {
    if (fields.effect === "allow" || fields.effect === "deny") effect = fields.effect;
    else {
      check.errors.push(
        issue(
          "POLICY_ERR_BAD_EFFECT",
          index,
          `${at}/effect`,
          `effect must be "allow" or "deny", not ${describeValue(fields.effect)}`,
        ),
      );
    }
  }
  const resources = checkPair(fields, index, "resources", "notResources", check);
  const specifiers: ResourceSpecifier[] = [];
  const leafTypes = new Set<string>();
  if (resources !== null) {
    resources.items.forEach((text, j) => {
      const pointer = `${at}/${resources.field}/${j}`;
      const read = readSpecifier(text);
      if (read.kind === "problem") {
        check.errors.push(issue("POLICY_ERR_BAD_SPECIFIER", index, pointer, read.expected, read.position));
        return;
      }
      specifiers.push(read);
      warnAboutTypes(read, index, pointer, check);
      if (!resources.negated)
        leafTypes.add(read.kind === "acct" ? "acct" : read.levels[read.levels.length - 1]!.type);
    });
  }
  const actions = checkPair(fields, index, "actions", "notActions", check);
  if (actions !== null) {
    const knownLeaves = [...leafTypes].filter(isKnownType);
    const known = actionsFor(knownLeaves);
    const scope = knownLeaves.length === 0 ? "" : ` for ${knownLeaves.join(", ")}`;
    actions.items.forEach((action, j) => {
      checkAction(action, index, `${at}/${actions.field}/${j}`, known, scope, check);
    });
  }
  if (check.errors.length > errorsBefore || resources === null || actions === null) return null;
  return {
    index,
    effect,
    negateResources: resources.negated,
    resources: specifiers,
    negateActions: actions.negated,
    actions: actions.items,
  };
}

interface ListField {
  field: string;
  negated: boolean;
  items: string[];
}

/** Exactly one of `field` / `notField`, a non-empty array of strings. */
function checkPair(
  fields: Record<string, unknown>,
  index: number,
  field: string,
  notField: string,
  check: PolicyCheck,
): ListField | null {
  const has = fields[field] !== undefined;
  const hasNot = fields[notField] !== undefined;
  if (has && hasNot) {
    check.errors.push(
      issue(
        "POLICY_ERR_BOTH_LISTS",
        index,
        `/${index}/${notField}`,
        `a statement has "${field}" or "${notField}", not both`,
      ),
    );
    return null;
  }
  if (!has && !hasNot) {
    check.errors.push(
      issue("POLICY_ERR_MISSING_LIST", index, `/${index}`, `a statement needs "${field}" or "${notField}"`),
    );
    return null;
  }
  const name = has ? field : notField;
  const value = fields[name];
  const pointer = `/${index}/${name}`;
  if (!Array.isArray(value)) {
    check.errors.push(
      issue(
        "POLICY_ERR_NOT_LIST",
        index,
        pointer,
        `"${name}" must be an array of strings, not ${kindOf(value)}`,
      ),
    );
    return null;
  }
  if (value.length === 0) {
    check.errors.push(
      issue("POLICY_ERR_EMPTY_LIST", index, pointer, `"${name}" must list at least one entry`),
    );
    return null;
  }
  const items: string[] = [];
  for (let j = 0; j < value.length; j++) {
    const item: unknown = value[j];
    if (typeof item === "string") items.push(item);
    else
      check.errors.push(
        issue("POLICY_ERR_NOT_STRING", index, `${pointer}/${j}`, `expected a string, not ${kindOf(item)}`),
      );
  }
  return items.length === value.length ? { field: name, negated: !has, items } : null;
}

function checkAction(
  action: string,
  index: number,
  pointer: string,
  known: readonly string[],
  scope: string,
  check: PolicyCheck,
): void {
  if (action.length === 0) {
    check.errors.push(
      issue(
        "POLICY_ERR_BAD_ACTION",
        index,
        pointer,
        `expected an action name or "*" but found an empty string`,
        0,
      ),
    );
    return;
  }
  for (let i = 0; i < action.length; i++) {
    if (!isActionChar(action.charCodeAt(i))) {
      const char = quote(String.fromCodePoint(action.codePointAt(i) ?? 0));
      check.errors.push(
        issue(
          "POLICY_ERR_BAD_ACTION",
          index,
          pointer,
          `an action name holds letters, digits, "_", "-", "." and "*", not ${char}`,
          i,
        ),
      );
      return;
    }
  }
  if (action.includes("*")) {
    const pattern = new Glob(action);
    if (!known.some((name) => pattern.match(name))) {
      check.warnings.push(
        issue(
          "POLICY_WARN_UNKNOWN_ACTION",
          index,
          pointer,
          `action pattern ${quote(action)} matches no known action${scope}`,
        ),
      );
    }
    return;
  }
  if (!known.includes(action)) {
    const hint = nearestName(action, known);
    check.warnings.push(
      issue(
        "POLICY_WARN_UNKNOWN_ACTION",
        index,
        pointer,
        `unknown action ${quote(action)}${scope}; nearest known: "${hint}"`,
      ),
    );
  }
}

function warnAboutTypes(
  specifier: ResourceSpecifier,
  index: number,
  pointer: string,
  check: PolicyCheck,
): void {
  if (specifier.kind === "acct") return;
  let position = 0;
  let parent: string | null = null;
  let parentKnown = true;
  for (const level of specifier.levels) {
    const known = isKnownType(level.type);
    if (!known) {
      const siblings = parentKnown ? childTypes(parent) : [];
      const hint = nearestName(level.type, [...new Set([...siblings, ...Object.keys(RESOURCE_TYPES)])]);
      check.warnings.push(
        issue(
          "POLICY_WARN_UNKNOWN_TYPE",
          index,
          pointer,
          `unknown resource type ${quote(level.type)}; nearest known: "${hint}" (${pathOf(hint ?? "proj")})`,
          position,
        ),
      );
    } else if (parentKnown && RESOURCE_TYPES[level.type]!.parent !== parent) {
      const where = parent === null ? "at the top level" : `right after "${parent}"`;
      check.warnings.push(
        issue(
          "POLICY_WARN_MISPLACED_TYPE",
          index,
          pointer,
          `resource type "${level.type}" cannot come ${where}: it is written ${pathOf(level.type)}, so this specifier matches nothing`,
          position,
        ),
      );
    }
    position += printSpecifier({ kind: "path", levels: [level] }).length + 1;
    parent = level.type;
    parentKnown = known;
  }
}

function isActionChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || // _
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x2a // *
  );
}

function issue(
  code: PolicyIssueCode,
  statementIndex: number,
  pointer: string,
  message: string,
  position?: number,
): PolicyIssue {
  return position === undefined
    ? { code, statementIndex, pointer, message }
    : { code, statementIndex, pointer, position, message };
}

function escapePointer(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  return `a ${typeof value} (${describeValue(value)})`;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  // String() of an object can throw (null prototype) or run user code: describe objects by kind.
  if ((typeof value === "object" && value !== null) || typeof value === "function") return kindOf(value);
  return quote(String(value));
}
