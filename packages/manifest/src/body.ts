import {
  assertRenderedJson,
  BUILTIN_DEFAULT_TEMPLATE,
  BUILTIN_DEFAULT_TEMPLATE_FILE,
  type CompiledTemplate,
  compileTemplate,
  escapeJsonStrings,
} from "@hookwire/templates";
import type { FormValues, Integration, TemplateKey } from "./integration";
import { bodyTemplateReadsFormVariables, bodyTemplateReadsSecrets } from "./secret-reads";

/**
 * The body of a delivery: which template an entry gets, and rendering it in the context the
 * framework defines (the entry's fields at the top level, plus `formVariables`; for a JSON
 * template every string of the entry JSON-escaped first, the form variables not).
 *
 * This runs for every hook of every entry, so everything that can be is computed once: the
 * render context and the standard payload per entry object (an entry is not changed once
 * rendered), and what a template reads per integration.
 */

export type BodyTemplateKey = TemplateKey | "standard" | "builtin";

/** The entry kinds that may have a template of their own (a manifest's `templates.<kind>`). */
export const KIND_TEMPLATES: ReadonlySet<string> = new Set(["flag", "project", "environment", "member"]);

let builtin: CompiledTemplate | undefined;
function builtinTemplate(): CompiledTemplate {
  builtin ??= compileTemplate(BUILTIN_DEFAULT_TEMPLATE, BUILTIN_DEFAULT_TEMPLATE_FILE);
  return builtin;
}

/**
 * The template for an entry kind: the kind's own (`flag`, `project`, `environment`, `member`)
 * if the integration has it, else `default`, else the built-in default template. With
 * useStandardWebhookPayload the body is the entry as it was posted, as JSON (`standard`, no
 * template: see RenderBodyOptions.posted).
 */
export function chooseTemplate(
  integration: Integration,
  kind: string | undefined,
): { key: BodyTemplateKey; template?: CompiledTemplate } {
  if (integration.useStandardWebhookPayload) return { key: "standard" };
  if (kind !== undefined && KIND_TEMPLATES.has(kind)) {
    const own = integration.templates[kind as TemplateKey];
    if (own !== undefined) return { key: kind as TemplateKey, template: own };
  }
  const fallback = integration.templates.default;
  if (fallback !== undefined) return { key: "default", template: fallback };
  return { key: "builtin", template: builtinTemplate() };
}

function pick(
  integration: Integration,
  entry: object,
  templateKey: TemplateKey | undefined,
): { key: BodyTemplateKey; template?: CompiledTemplate } {
  if (templateKey !== undefined && !integration.useStandardWebhookPayload) {
    const asked = integration.templates[templateKey];
    if (asked !== undefined) return { key: templateKey, template: asked };
  }
  const kind = (entry as { kind?: unknown }).kind;
  return chooseTemplate(integration, typeof kind === "string" ? kind : undefined);
}

/**
 * The render context of an entry: its fields (JSON-escaped for a JSON template) plus a
 * `formVariables` slot. Built once per entry and kind of template, then reused by every hook:
 * renderBody fills the slot for one render and empties it after, so no hook's values stay
 * behind. Rendering is synchronous and keeps no reference to the context, so one object serves.
 */
interface RenderContext extends Record<string, unknown> {
  formVariables: FormValues | undefined;
}
const escapedContexts = new WeakMap<object, RenderContext>();
const plainContexts = new WeakMap<object, RenderContext>();

function contextOf(entry: object, json: boolean): RenderContext {
  const cache = json ? escapedContexts : plainContexts;
  let context = cache.get(entry);
  if (context === undefined) {
    // Object.assign, not a spread: Node 20's V8 makes a new map for every spread copy that then
    // gains a key (~0.9 µs an entry; Object.assign ~0.3 µs).
    context = Object.assign({}, json ? escapeJsonStrings(entry) : entry, { formVariables: undefined });
    cache.set(entry, context);
  }
  return context;
}

/**
 * Texts of templates that read no form variable, per entry: the same for every hook, so an entry
 * that goes to 40 hooks of one integration (every Slack hook of a company) is rendered once.
 */
const renderedTexts = new WeakMap<object, Map<CompiledTemplate, string>>();
const formVariableReads = new WeakMap<CompiledTemplate, boolean>();

function readsFormVariables(template: CompiledTemplate): boolean {
  let reads = formVariableReads.get(template);
  if (reads === undefined) {
    reads = bodyTemplateReadsFormVariables(template.analysis);
    formVariableReads.set(template, reads);
  }
  return reads;
}

function renderedFor(entry: object, template: CompiledTemplate): string | undefined {
  return renderedTexts.get(entry)?.get(template);
}

function keepRendered(entry: object, template: CompiledTemplate, text: string): void {
  let texts = renderedTexts.get(entry);
  if (texts === undefined) {
    texts = new Map();
    renderedTexts.set(entry, texts);
  }
  texts.set(template, text);
}

const standardPayloads = new WeakMap<object, string>();

function standardPayload(entry: object): string {
  let payload = standardPayloads.get(entry);
  if (payload === undefined) {
    payload = JSON.stringify(entry);
    standardPayloads.set(entry, payload);
  }
  return payload;
}

const NOT_BLANK = /\S/;

export interface RenderBodyOptions {
  /** Report missing fields (hookwire validate) instead of rendering them as nothing. */
  strict?: boolean;
  /** A template to use instead of the entry kind's, e.g. `validation` for "test this hook". */
  templateKey?: TemplateKey;
  /** Check that a JSON template rendered JSON (default true); a preview shows it anyway. */
  checkJson?: boolean;
  /**
   * The entry as it was posted (before it was read into a template context), for the standard
   * payload: a LaunchDarkly webhook's receiver reads the audit log entry as its REST API shows
   * it, so that is what is sent, not the context. Absent: the entry itself.
   */
  posted?: object;
}

/**
 * Renders the body for one entry. `body` is null when the text is blank: nothing is sent.
 * Throws TemplateError; a JSON template whose text is not JSON throws
 * TEMPLATES_ERR_INVALID_JSON with the position and a snippet (secrets masked).
 */
export function renderBody(
  integration: Integration,
  entry: object,
  formValues: FormValues,
  options?: RenderBodyOptions,
): { templateKey: string; body: string | null } {
  const { key, template } = pick(integration, entry, options?.templateKey);
  if (template === undefined) return { templateKey: key, body: standardPayload(options?.posted ?? entry) };

  const strict = options?.strict === true;
  const shared = !strict && !readsFormVariables(template);
  let text = shared ? renderedFor(entry, template) : undefined;
  if (text === undefined) {
    const context = contextOf(entry, template.isJson);
    context.formVariables = formValues;
    try {
      text = template.render(context, { strict });
    } finally {
      context.formVariables = undefined;
    }
    if (shared) keepRendered(entry, template, text);
  }
  if (!NOT_BLANK.test(text)) return { templateKey: key, body: null };
  if (template.isJson && options?.checkJson !== false) {
    assertRenderedJson(text, template.file, () => secretValues(integration, formValues));
  }
  return { templateKey: key, body: text };
}

/** The secret form values, to mask in an error's snippet. */
export function secretValues(integration: Integration, formValues: FormValues): string[] {
  const values: string[] = [];
  for (const key of integration.secretKeys) {
    const value = formValues[key];
    if (typeof value === "string" && value !== "") values.push(value);
  }
  return values;
}

const secretReads = new WeakMap<CompiledTemplate, boolean>();

/**
 * Whether the body under `templateKey` (as renderBody returned it) can print a secret form
 * variable: such a body must be rendered in the worker, since secrets are never written to Redis.
 */
export function bodyReadsSecrets(integration: Integration, templateKey: string): boolean {
  if (templateKey === "standard" || templateKey === "builtin") return false;
  const template = integration.templates[templateKey as TemplateKey];
  if (template === undefined) return false;
  let reads = secretReads.get(template);
  if (reads === undefined) {
    reads = bodyTemplateReadsSecrets(template.analysis, integration.secretKeys);
    secretReads.set(template, reads);
  }
  return reads;
}
