import Handlebars, { type HelperDelegate, type HelperOptions } from "handlebars";
import { chargeIteration, chargeWork } from "./budget";
import { FRAMEWORK_HELPERS } from "./helpers";
import { strictLookup } from "./strict-lookup";

/**
 * The one Handlebars environment every template of hookwire runs in: isolated from the
 * module's global instance, with exactly the framework's helpers (the built-ins `if`,
 * `unless`, `each`, `with`, `lookup` and the custom ones), no partials, no decorators.
 */
export const handlebars = Handlebars.create();

/** A value as `{{x}}` renders it: HTML-escaped, as Handlebars does (masks of secrets match it). */
export function htmlEscaped(value: string): string {
  return Handlebars.Utils.escapeExpression(value);
}

handlebars.unregisterHelper("log"); // not in the framework's language, and it writes to the console
handlebars.unregisterDecorator("inline");
for (const [name, helper] of Object.entries(FRAMEWORK_HELPERS)) {
  handlebars.registerHelper(name, helper as HelperDelegate);
}

// Every iteration of a block goes through `each` (a block over an array calls it too), so it
// is where the render budget counts loops: nested #each over large arrays stops early.
const builtinEach = handlebars.helpers.each as HelperDelegate;
handlebars.registerHelper("each", function (this: unknown, context: unknown, options?: HelperOptions) {
  if (options?.fn === undefined) return builtinEach.call(this, context, options);
  const body = options.fn;
  // The options object is made afresh by the compiled code for every call: changing it is safe.
  options.fn = ((value: unknown, runtime?: Handlebars.RuntimeOptions) => {
    chargeIteration();
    const text = body(value, runtime);
    chargeWork(text.length);
    return text;
  }) as Handlebars.TemplateDelegate;
  return builtinEach.call(this, context, options);
});

/** Names a template may call as helpers; anything else with arguments is a missing helper. */
export const KNOWN_HELPERS: ReadonlySet<string> = new Set([
  "if",
  "unless",
  "each",
  "with",
  "lookup",
  ...Object.keys(FRAMEWORK_HELPERS),
]);

// Known helpers are called directly by compiled code; `log` is named false so that a template
// calling it gets Handlebars' "missing helper" error rather than a call of nothing.
const KNOWN_HELPER_FLAGS: Record<string, boolean> = {
  ...Object.fromEntries([...KNOWN_HELPERS].map((name) => [name, true])),
  log: false,
};

interface SourceLocation {
  start: { line: number; column: number };
}

/** The slice of Handlebars' code generator that the strict lookup below builds on. */
interface CodeGenerator {
  options: { strict?: boolean };
  source: { currentLocation?: SourceLocation };
  popStack(): unknown;
  push(expr: unknown): unknown;
  aliasable(name: string): unknown;
  quotedString(text: string): string;
  nameLookup(parent: unknown, name: string, type: string): unknown;
  resolvePath(type: string, parts: string[], start: number, falsy: boolean, strict: boolean): void;
  pushSource(source: unknown): void;
  appendToBuffer(source: unknown[]): unknown;
}

/** Handlebars' compiler classes, which its type declarations leave out. */
interface CompilerClasses {
  Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
  JavaScriptCompiler: new () => CodeGenerator & {
    compile(environment: unknown, options: object, context: undefined, asObject: boolean): unknown;
  };
  template(spec: unknown): Handlebars.TemplateDelegate;
}
const compilers = handlebars as unknown as CompilerClasses;

const BaseCompiler = compilers.JavaScriptCompiler;

/**
 * The name, in the render's data frame, of the function that charges escaped text to the
 * budget. Data frames are copied into every block, so compiled code reaches it everywhere.
 */
const CHARGE = "hookwireCharge";
/** The name, in the data frame, of strict code's path lookup. */
const LOOKUP = "hookwireLookup";

function charge(value: unknown): unknown {
  if (typeof value === "string") chargeWork(value.length);
  else if (Array.isArray(value)) chargeWork(value.length);
  return value;
}

// Handlebars' own rule for reading a field (runtime.js lookupProperty) with its default
// prototype-access settings: own properties only, and never a prototype's constructor.
function ownProperty(parent: Record<string, unknown>, name: string): unknown {
  const result = parent[name];
  if (result === undefined || result === null) return result;
  if (!Object.hasOwn(parent, name)) return undefined;
  const isConstructor =
    name === "constructor" &&
    typeof result === "function" &&
    parent === (result as { prototype?: unknown }).prototype;
  return isConstructor ? undefined : result;
}

// Handlebars' prototype-access rules as its defaults make them, except that a denied read is
// not written to the console: a template is not the place to decide what gets logged.
const protoAccessControl = {
  properties: { whitelist: Object.assign(Object.create(null), { __proto__: false }), defaultValue: false },
  methods: {
    whitelist: Object.assign(Object.create(null), {
      constructor: false,
      __defineGetter__: false,
      __defineSetter__: false,
      __lookupGetter__: false,
      __lookupSetter__: false,
    }),
    defaultValue: false,
  },
};

const { helperMissing, blockHelperMissing, ...callable } = handlebars.helpers;
const runtimeHelpers: Record<string, unknown> = {
  ...callable,
  lookup: (object: unknown, field: unknown) =>
    object ? ownProperty(object as Record<string, unknown>, String(field)) : object,
};
const NONE = Object.freeze({});

/**
 * The options of every render. Handlebars' public path sets each render up anew (it wraps
 * every helper, builds the prototype-access rules, copies the data frame): a sixth of the time
 * of a small template. Here that is built once, and handed over the way Handlebars hands it to
 * a partial (`partial: true`), which takes it as it is. The data frame holds the render's root
 * and the functions compiled code calls (see LocatingCompiler below). Renders are synchronous
 * and never nested, so one options object serves them all.
 */
const runtime = {
  partial: true,
  helpers: runtimeHelpers,
  partials: NONE,
  decorators: NONE,
  hooks: { helperMissing, blockHelperMissing },
  protoAccessControl,
  data: undefined as object | undefined,
};

export type RuntimeOptions = typeof runtime;

export function runtimeOptions(root: unknown): RuntimeOptions {
  runtime.data = { root, [CHARGE]: charge, [LOOKUP]: strictLookup };
  return runtime;
}

/** Drops the last render's context, which may hold a hook's secret form values. */
export function releaseRuntimeOptions(): void {
  runtime.data = undefined;
}

/**
 * Handlebars' code generator with two changes:
 * - every `{{x}}` passes its value through the budget before escaping, so a template that
 *   escapes a large value many times stops on the work cap instead of running on;
 * - Handlebars' strict mode checks only the last segment of a path (a missing parent, as
 *   `project` in `project.environment.key`, fails later with a bare TypeError that names no
 *   line) and stops at the first. In strict mode every segment goes through strictLookup with
 *   the location of the path, which notes what is missing and carries on. Lenient lookups are
 *   unchanged.
 */
class LocatingCompiler extends BaseCompiler {
  appendEscaped(): void {
    this.pushSource(
      this.appendToBuffer([
        this.aliasable("container.escapeExpression"),
        `(data.${CHARGE}(`,
        this.popStack(),
        "))",
      ]),
    );
  }

  override resolvePath(type: string, parts: string[], start: number, falsy: boolean, strict: boolean): void {
    if (this.options.strict !== true) {
      super.resolvePath(type, parts, start, falsy, strict);
      return;
    }
    const start0 = this.source.currentLocation?.start;
    const location =
      start0 === undefined ? "null" : `{line: ${Number(start0.line)}, column: ${Number(start0.column)}}`;
    let stack = this.popStack();
    for (let i = start; i < parts.length; i++) {
      // A helper's argument may be missing at its end (`{{#if comment}}`), as in Handlebars.
      const required = strict || i < parts.length - 1;
      const name = this.quotedString(parts[i] as string);
      stack = [`data.${LOOKUP}(container.lookupProperty, `, stack, `, ${name}, ${location}, ${required})`];
    }
    this.push(stack);
  }
}
(LocatingCompiler.prototype as unknown as { compiler: unknown }).compiler = LocatingCompiler;
compilers.JavaScriptCompiler = LocatingCompiler;

/** A compiled template: called with the context and runtimeOptions(context). */
export type RenderDelegate = (context: unknown, options: RuntimeOptions) => string;

/** Compiles a parsed template now (Handlebars would wait for the first render). */
export function buildTemplate(ast: hbs.AST.Program, strict: boolean): RenderDelegate {
  const options = { data: true, strict, knownHelpers: KNOWN_HELPER_FLAGS };
  const environment = new compilers.Compiler().compile(ast, options);
  const spec = new compilers.JavaScriptCompiler().compile(environment, options, undefined, true);
  return compilers.template(spec) as unknown as RenderDelegate;
}
