import type { TemplateAnalysis } from "@hookwire/templates";

/**
 * Whether a template can print a secret form variable. Bodies are rendered at ingest and
 * queued in Redis, unless they read a secret: then the worker renders them, since a secret is
 * never written to the queue. The answer errs towards yes: any read of the whole form-variable
 * object, of the whole context, or a string naming a secret counts.
 */

/** A body template: form variables are under `formVariables`. */
export function bodyTemplateReadsSecrets(
  analysis: TemplateAnalysis,
  secretKeys: ReadonlySet<string>,
): boolean {
  if (secretKeys.size === 0) return false;
  for (const path of analysis.paths) {
    const at = path.parts.indexOf("formVariables");
    if (at !== -1) {
      const next = path.parts[at + 1];
      if (next === undefined || secretKeys.has(next)) return true;
    }
    if (readsWholeContext(path)) return true;
  }
  return analysis.strings.some((text) => text === "formVariables" || secretKeys.has(text));
}

/**
 * Whether a body template can read any form variable at all: when it cannot, its text for an
 * entry is the same for every hook of the integration, and is rendered once per entry.
 */
export function bodyTemplateReadsFormVariables(analysis: TemplateAnalysis): boolean {
  for (const path of analysis.paths) {
    if (path.parts.includes("formVariables") || readsWholeContext(path)) return true;
  }
  return analysis.strings.includes("formVariables");
}

/** A URL or header template: form variables are at the top level. */
export function requestTemplateReadsSecrets(
  analysis: TemplateAnalysis,
  secretKeys: ReadonlySet<string>,
): boolean {
  if (secretKeys.size === 0) return false;
  for (const path of analysis.paths) {
    if (path.fromRoot && path.parts.length > 0 && secretKeys.has(path.parts[0] as string)) return true;
    if (readsWholeContext(path)) return true;
  }
  return analysis.strings.some((text) => secretKeys.has(text));
}

// `{{#each this}}`, `{{lookup . key}}`, `{{#with @root}}` at the top: every field is reachable.
function readsWholeContext(path: TemplateAnalysis["paths"][number]): boolean {
  return path.fromRoot && path.parts.length === 0 && path.role !== "value";
}
