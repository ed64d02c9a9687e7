/**
 * The integration framework's own rendering, as its repository's tests do it: Handlebars with the
 * framework's helpers, the stand-in form values its tests render with, and which files are JSON
 * templates. The compatibility suites hold hookwire's rendering and delivery against it.
 */
import { basicAuthHeaderValue, formatWithOffset } from "@hookwire/templates";
import Handlebars from "handlebars";

/** The form variables of an integration, as far as the framework's tests read them. */
export interface FrameworkFormVariable {
  key: string;
  type: string;
}

/** The framework's own renderer: Handlebars with its helpers, as its repository's tests use it. */
export function frameworkRenderer(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper(
    "equal",
    function (this: unknown, a: unknown, b: unknown, options: Handlebars.HelperOptions) {
      return a === b ? options.fn(this) : options.inverse(this);
    },
  );
  hb.registerHelper("pathEncode", (v: string) => encodeURI(v));
  hb.registerHelper("queryEncode", (v: string) => encodeURIComponent(v));
  // Not in the framework repository's test helpers; the production renderer has them, with the
  // outputs ARCHITECTURE.md gives (tested on their own in @hookwire/templates).
  hb.registerHelper("formatWithOffset", formatWithOffset);
  hb.registerHelper("basicAuthHeaderValue", basicAuthHeaderValue);
  return hb;
}

/** The form values the framework's tests render with: each type's stand-in. */
export function frameworkFormValues(
  formVariables: readonly FrameworkFormVariable[],
): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const v of formVariables) {
    if (v.type === "boolean") values[v.key] = true;
    else if (v.type === "uri") values[v.key] = `https://${v.key}.com`;
    else if (["string", "enum", "dynamicEnum"].includes(v.type)) values[v.key] = v.key;
  }
  return values;
}

/** Whether the framework renders a template file as JSON (its entry's strings JSON-escaped). */
export function isJsonFile(file: string): boolean {
  const lower = file.toLowerCase();
  return lower.endsWith(".json") || lower.endsWith(".json.hbs");
}
