import { TemplateError } from "./errors";

/**
 * What a template reads, found once from its syntax tree: the manifest loader uses it to tell
 * which form variables a body or URL reads, and strict rendering to name a missing field.
 */

/** One path written in a template (`project.key`, `../name`, `@root.kind`, `this`). */
export interface TemplatePath {
  /** As written. */
  readonly text: string;
  /** Its segments; for `@root.a.b` the segments after `@root`. */
  readonly parts: readonly string[];
  /** True when it resolves against the context the template was rendered with, not a block's item. */
  readonly fromRoot: boolean;
  /** `value`: printed; `argument`: passed to a helper; `block`: opens a block of its own name. */
  readonly role: "value" | "argument" | "block";
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * The template's top level in order: plain text, plain values (`{{x}}`), choices between
 * branches (`{{#if}}`, `{{#unless}}`, `{{#equal}}`: the block and its else), anything else.
 */
export type TemplateSegment =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "value"; readonly path: TemplatePath }
  | { readonly kind: "choice"; readonly branches: readonly (readonly TemplateSegment[])[] }
  | { readonly kind: "logic" };

export interface TemplateAnalysis {
  readonly paths: readonly TemplatePath[];
  /** String literals, e.g. the key in `{{lookup formVariables "token"}}`. */
  readonly strings: readonly string[];
  readonly segments: readonly TemplateSegment[];
  /** Calls of helpers the framework does not have: they fail when that part renders. */
  readonly unknownHelpers: readonly { name: string; line: number; column: number }[];
}

type Node = hbs.AST.Node;

// Blocks whose body runs with the same context as the block itself.
const SAME_CONTEXT_BLOCKS = new Set(["if", "unless", "equal", "equalWithElse"]);

function location(node: Node): { line: number; column: number } {
  return { line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1 };
}

export function analyseTemplate(
  ast: hbs.AST.Program,
  file: string,
  knownHelpers: ReadonlySet<string>,
): TemplateAnalysis {
  const paths: TemplatePath[] = [];
  const strings: string[] = [];
  const unknownHelpers: { name: string; line: number; column: number }[] = [];

  const reject = (node: Node, what: string): never => {
    const { line, column } = location(node);
    throw new TemplateError("TEMPLATES_ERR_COMPILE", `${file}:${line}:${column}: ${what}`, {
      file,
      line,
      column,
    });
  };

  const addPath = (path: hbs.AST.PathExpression, role: TemplatePath["role"], scope: number): TemplatePath => {
    const rootData = path.data && path.parts[0] === "root";
    const entry: TemplatePath = {
      text: path.original,
      parts: rootData ? path.parts.slice(1) : path.parts,
      fromRoot: rootData || (!path.data && scope - path.depth <= 0),
      role,
      ...location(path),
    };
    paths.push(entry);
    return entry;
  };

  const expression = (node: Node, scope: number): void => {
    switch (node.type) {
      case "PathExpression":
        addPath(node as hbs.AST.PathExpression, "argument", scope);
        return;
      case "SubExpression":
        call(node as hbs.AST.SubExpression, scope, "argument");
        return;
      case "StringLiteral":
        strings.push((node as hbs.AST.StringLiteral).value);
        return;
      default:
        return; // number, boolean, null, undefined literals
    }
  };

  // A mustache, block or subexpression: either a helper call or a path.
  const call = (
    node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression,
    scope: number,
    role: TemplatePath["role"],
  ): "helper" | "path" => {
    const head = node.path;
    const hasArguments = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (head.type !== "PathExpression") {
      expression(head, scope);
      return "path";
    }
    const path = head as hbs.AST.PathExpression;
    const simpleName = !path.data && path.depth === 0 && path.parts.length === 1 ? path.parts[0] : undefined;
    const isHelper = simpleName !== undefined && (knownHelpers.has(simpleName) || hasArguments);
    if (isHelper) {
      if (!knownHelpers.has(simpleName)) unknownHelpers.push({ name: simpleName, ...location(path) });
    } else {
      addPath(path, role, scope);
    }
    for (const param of node.params) expression(param, scope);
    for (const pair of node.hash?.pairs ?? []) expression(pair.value, scope);
    return isHelper ? "helper" : "path";
  };

  // Handlebars would throw these at render time, on the first entry that reaches them.
  const checkArity = (block: hbs.AST.BlockStatement, name: string): void => {
    const count = block.params.length;
    if ((name === "if" || name === "unless" || name === "with") && count !== 1) {
      reject(block, `{{#${name}}} takes exactly one argument, got ${count}`);
    }
    if (name === "each" && count < 1) reject(block, "{{#each}} needs the list to iterate over");
  };

  const program = (body: hbs.AST.Program | undefined, scope: number): void => {
    for (const statement of body?.body ?? []) {
      switch (statement.type) {
        case "ContentStatement":
        case "CommentStatement":
          break;
        case "MustacheStatement":
          call(statement as hbs.AST.MustacheStatement, scope, "value");
          break;
        case "BlockStatement": {
          const block = statement as hbs.AST.BlockStatement;
          const kind = call(block, scope, "block");
          const name = block.path.parts[0] ?? "";
          if (kind === "helper") checkArity(block, name);
          const keepsContext = kind === "helper" && SAME_CONTEXT_BLOCKS.has(name);
          program(block.program, keepsContext ? scope : scope + 1);
          program(block.inverse, scope);
          break;
        }
        case "PartialStatement":
        case "PartialBlockStatement":
          reject(statement, "partials ({{> name}}) are not part of the framework's template language");
          break;
        case "Decorator":
        case "DecoratorBlock":
          reject(statement, "decorators ({{* name}}) are not part of the framework's template language");
          break;
        default:
          reject(statement, `unexpected ${statement.type}`);
      }
    }
  };

  program(ast, 0);
  return { paths, strings, segments: topLevelSegments(ast, paths), unknownHelpers };
}

const CHOICE_BLOCKS = new Set(["if", "unless", "equal", "equalWithElse"]);

function topLevelSegments(
  ast: hbs.AST.Program | undefined,
  paths: readonly TemplatePath[],
): TemplateSegment[] {
  const segments: TemplateSegment[] = [];
  for (const statement of ast?.body ?? []) {
    if (statement.type === "CommentStatement") continue;
    if (statement.type === "ContentStatement") {
      segments.push({ kind: "text", text: (statement as hbs.AST.ContentStatement).value });
      continue;
    }
    if (statement.type === "BlockStatement") {
      const block = statement as hbs.AST.BlockStatement;
      const name = block.path.parts.length === 1 && !block.path.data ? block.path.parts[0] : undefined;
      segments.push(
        name !== undefined && CHOICE_BLOCKS.has(name)
          ? {
              kind: "choice",
              branches: [topLevelSegments(block.program, paths), topLevelSegments(block.inverse, paths)],
            }
          : { kind: "logic" },
      );
      continue;
    }
    const mustache = statement as hbs.AST.MustacheStatement;
    const plainValue =
      statement.type === "MustacheStatement" &&
      mustache.params.length === 0 &&
      (mustache.hash?.pairs.length ?? 0) === 0 &&
      mustache.path.type === "PathExpression";
    const { line, column } = location(mustache.path ?? statement);
    const path = plainValue ? paths.find((p) => p.line === line && p.column === column) : undefined;
    segments.push(path === undefined ? { kind: "logic" } : { kind: "value", path });
  }
  return segments;
}
