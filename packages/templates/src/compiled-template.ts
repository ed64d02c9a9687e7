import { closeBudget, openBudget } from "./budget";
import {
  buildTemplate,
  handlebars,
  KNOWN_HELPERS,
  type RenderDelegate,
  releaseRuntimeOptions,
  runtimeOptions,
} from "./environment";
import { describeLocation, type MissingField, TemplateError } from "./errors";
import { TEMPLATE_LIMITS } from "./limits";
import { collectMissing, type MissingSegment } from "./strict-lookup";
import { analyseTemplate, type TemplateAnalysis } from "./syntax";

export interface RenderOptions {
  /** Report a missing field (TEMPLATES_ERR_MISSING_FIELD) instead of rendering it as nothing. */
  strict?: boolean;
}

export interface CompiledTemplate {
  readonly file: string;
  /** The file name ends in `.json` or `.json.hbs`: the entry's strings are JSON-escaped for it. */
  readonly isJson: boolean;
  /** What the template reads, for the callers that must know (secrets, URL hosts). */
  readonly analysis: TemplateAnalysis;
  render(context: object, options?: RenderOptions): string;
}

interface HandlebarsException {
  message: string;
  lineNumber?: number;
  column?: number;
  hash?: { loc?: { first_line?: number; first_column?: number } };
}

function isJsonFile(file: string): boolean {
  const lower = file.toLowerCase();
  return lower.endsWith(".json") || lower.endsWith(".json.hbs");
}

function isTooLarge(text: string): boolean {
  const limit = TEMPLATE_LIMITS.outputMaxBytes;
  // UTF-8 takes one to three bytes per UTF-16 unit: only texts in between need counting.
  if (text.length > limit) return true;
  return text.length * 3 > limit && Buffer.byteLength(text, "utf8") > limit;
}

class Template implements CompiledTemplate {
  readonly isJson: boolean;
  private strictDelegate: RenderDelegate | undefined;

  constructor(
    readonly file: string,
    private readonly text: string,
    readonly analysis: TemplateAnalysis,
    private readonly lenient: RenderDelegate,
  ) {
    this.isJson = isJsonFile(file);
  }

  render(context: object, options?: RenderOptions): string {
    const strict = options?.strict === true;
    const previous = openBudget();
    let output: string;
    try {
      if (strict) {
        const delegate = this.strict();
        const { output: text, missing } = collectMissing(() => delegate(context, runtimeOptions(context)));
        if (missing.length > 0) throw this.missingFields(missing);
        output = text;
      } else {
        output = this.lenient(context, runtimeOptions(context));
      }
    } catch (failure) {
      throw this.renderFailure(failure);
    } finally {
      closeBudget(previous);
      releaseRuntimeOptions();
    }
    if (isTooLarge(output)) throw this.tooLarge();
    return output;
  }

  private missingFields(segments: readonly MissingSegment[]): TemplateError {
    const file = this.file;
    const missing: MissingField[] = segments.map(({ segment, line, column }) => ({
      field: this.analysis.paths.find((p) => p.line === line && p.column === column)?.text ?? segment,
      segment,
      line,
      column,
    }));
    const describe = (m: MissingField) =>
      `${describeLocation(file, m.line, m.column)}: missing field "${m.field}"${
        m.field === m.segment ? "" : ` ("${m.segment}" is not there)`
      }`;
    const first = missing[0] as MissingField;
    const more = missing.length > 1 ? `\n${missing.slice(1).map(describe).join("\n")}` : "";
    return new TemplateError("TEMPLATES_ERR_MISSING_FIELD", `${describe(first)}${more}`, {
      file,
      line: first.line,
      column: first.column,
      field: first.field,
      missing,
    });
  }

  // Strict code is compiled on first use: only `hookwire validate` and previews need it.
  private strict(): RenderDelegate {
    this.strictDelegate ??= buildTemplate(parse(this.text, this.file), true);
    return this.strictDelegate;
  }

  private tooLarge(): TemplateError {
    return new TemplateError(
      "TEMPLATES_ERR_OUTPUT_TOO_LARGE",
      `${this.file}: the rendered text is larger than ${TEMPLATE_LIMITS.outputMaxBytes} bytes`,
      { file: this.file },
    );
  }

  // Messages are written here rather than passed on: Handlebars' and V8's messages can quote
  // the value being read, and that value may be a secret.
  private renderFailure(failure: unknown): TemplateError {
    const file = this.file;
    if (failure instanceof TemplateError) {
      if (failure.file !== undefined) return failure;
      return new TemplateError(failure.code, `${file}: ${failure.message}`, { file, cause: failure });
    }
    if (failure instanceof RangeError && /string length/i.test(failure.message)) return this.tooLarge();
    if (failure instanceof TypeError) {
      return new TemplateError(
        "TEMPLATES_ERR_RENDER",
        `${file}: rendering failed on a value of an unexpected type`,
        {
          file,
        },
      );
    }
    const exception = failure as HandlebarsException;
    const line = typeof exception?.lineNumber === "number" ? exception.lineNumber : undefined;
    const column = typeof exception?.column === "number" ? exception.column + 1 : undefined;
    const message =
      typeof exception?.message === "string" ? exception.message.split("\n")[0] : String(failure);
    // Handlebars' own runtime errors (a missing helper, a block without its argument) hold no data.
    return new TemplateError("TEMPLATES_ERR_RENDER", `${describeLocation(file, line, column)}: ${message}`, {
      file,
      line,
      column,
      cause: failure,
    });
  }
}

function parse(text: string, file: string): hbs.AST.Program {
  try {
    return handlebars.parse(text);
  } catch (failure) {
    const exception = failure as HandlebarsException;
    const line =
      exception.lineNumber ?? exception.hash?.loc?.first_line ?? lineFromMessage(exception.message);
    const detail = String(exception.message ?? failure).trim();
    throw new TemplateError("TEMPLATES_ERR_COMPILE", `${describeLocation(file, line)}: ${detail}`, {
      file,
      line,
      cause: failure,
    });
  }
}

function lineFromMessage(message: unknown): number | undefined {
  const match = typeof message === "string" ? /line (\d+)/.exec(message) : null;
  return match === null ? undefined : Number(match[1]);
}

// Compiled templates by file and text. Integrations are few; the bound only matters when
// callers compile text they were sent (previews), so the oldest entry goes first.
const CACHE_SIZE = 2000;
const cache = new Map<string, Template>();

/**
 * Parses and compiles a template once: the same (file, text) gives the same object. Throws
 * TemplateError TEMPLATES_ERR_TOO_LARGE or TEMPLATES_ERR_COMPILE with the file and line.
 */
/** Opens a block (`{{#x}}`, `{{^x}}`, `{{#> p}}`), closes one (`{{/x}}`), or is a comment. */
const BLOCK_TAG = /\{\{~?(?:(!--[\s\S]*?--~?\}\})|(![\s\S]*?\}\})|([#^])|(\/))/g;

/**
 * Refuses, before Handlebars parses it, a template whose blocks nest deeper than
 * TEMPLATE_LIMITS.maxBlockDepth, naming the line where the limit is passed. A linear scan: the
 * parser and compiler recurse once per level, and a hostile template must not cost them seconds.
 */
function checkBlockDepth(text: string, file: string): void {
  let depth = 0;
  for (const match of text.matchAll(BLOCK_TAG)) {
    if (match[1] !== undefined || match[2] !== undefined) continue; // a comment
    if (match[4] !== undefined) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    // `{{^}}` alone is an else, not a block.
    const after = (match.index ?? 0) + match[0].length;
    if (match[3] === "^" && /^\s*~?\}\}/.test(text.slice(after, after + 8))) continue;
    if (++depth > TEMPLATE_LIMITS.maxBlockDepth) {
      const line = text.slice(0, match.index).split("\n").length;
      throw new TemplateError(
        "TEMPLATES_ERR_TOO_DEEP",
        `${describeLocation(file, line)}: blocks nested more than ${TEMPLATE_LIMITS.maxBlockDepth} deep`,
        { file, line },
      );
    }
  }
}

export function compileTemplate(text: string, file: string): CompiledTemplate {
  const key = `${file}\u0000${text}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  const size = Buffer.byteLength(text, "utf8");
  if (size > TEMPLATE_LIMITS.templateMaxBytes) {
    throw new TemplateError(
      "TEMPLATES_ERR_TOO_LARGE",
      `${file}: the template is ${size} bytes, more than the ${TEMPLATE_LIMITS.templateMaxBytes} allowed`,
      { file },
    );
  }
  checkBlockDepth(text, file);
  const ast = parse(text, file);
  const analysis = analyseTemplate(ast, file, KNOWN_HELPERS);
  let lenient: RenderDelegate;
  try {
    lenient = buildTemplate(ast, false);
  } catch (failure) {
    const exception = failure as HandlebarsException;
    throw new TemplateError(
      "TEMPLATES_ERR_COMPILE",
      `${describeLocation(file, exception.lineNumber)}: ${String(exception.message ?? failure)}`,
      { file, line: exception.lineNumber, cause: failure },
    );
  }
  const template = new Template(file, text, analysis, lenient);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, template);
  return template;
}
