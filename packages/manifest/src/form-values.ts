import type { FormValues, FormVariable, Integration } from "./integration";

/**
 * A hook's settings against its integration's form variables: required ones present, enums
 * within allowedValues, booleans boolean (an absent one is false, as an unticked box), URIs
 * absolute http(s) URLs, defaults applied, unknown keys rejected. Messages never quote a
 * value: it may be a secret.
 */

export interface FormValueError {
  /** JSON pointer into the values, e.g. `/apiKey`; "" for the values as a whole. */
  pointer: string;
  message: string;
}

// Filled in by the framework itself (a generated token, an OAuth grant), never typed by a user.
const NEVER_REQUIRED = new Set(["generated", "oauth"]);

function pointerTo(key: string): string {
  return `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isRequired(variable: FormVariable): boolean {
  return variable.isOptional !== true && !NEVER_REQUIRED.has(variable.type);
}

function checkValue(variable: FormVariable, value: unknown): string | undefined {
  if (variable.type === "boolean") {
    return typeof value === "boolean" ? undefined : "must be true or false";
  }
  if (typeof value !== "string") return "must be a string";
  if (
    variable.type === "enum" &&
    variable.allowedValues !== undefined &&
    !variable.allowedValues.includes(value)
  ) {
    return `must be one of ${variable.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (variable.type === "uri" && value !== "") {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return "must be an absolute URL";
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http or https URL";
  }
  return undefined;
}

export function checkFormValues(
  integration: Integration,
  values: unknown,
): { values: FormValues; errors: FormValueError[] } {
  const errors: FormValueError[] = [];
  const checked: FormValues = {};
  if (values === undefined || values === null) values = {};
  if (!isPlainObject(values)) {
    return {
      values: checked,
      errors: [{ pointer: "", message: "the form values must be an object of key to value" }],
    };
  }

  const known = new Set(integration.formVariables.map((v) => v.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) {
      errors.push({
        pointer: pointerTo(key),
        message: `is not a form variable of the ${integration.key} integration`,
      });
    }
  }

  for (const variable of integration.formVariables) {
    const given = values[variable.key];
    const absent = given === undefined || given === null || (given === "" && variable.type !== "boolean");
    if (absent) {
      if (variable.defaultValue !== undefined) {
        checked[variable.key] = variable.defaultValue;
      } else if (variable.type === "boolean") {
        // A checkbox left alone: the framework's form sends false, never nothing.
        checked[variable.key] = false;
      } else if (isRequired(variable)) {
        errors.push({ pointer: pointerTo(variable.key), message: `is required (${variable.name})` });
      } else if (given === "") {
        checked[variable.key] = "";
      }
      continue;
    }
    const problem = checkValue(variable, given);
    if (problem !== undefined) {
      errors.push({ pointer: pointerTo(variable.key), message: `${problem} (${variable.name})` });
      continue;
    }
    checked[variable.key] = given as string | boolean;
  }
  return { values: checked, errors };
}

/**
 * Values for previewing a hook that is not configured: the given ones, then each variable's
 * default, then the framework preview's placeholders: `true` for a boolean, `$KEY` (the key in
 * capitals) for anything else.
 */
export function placeholderFormValues(integration: Integration, given: FormValues = {}): FormValues {
  const values: FormValues = {};
  for (const variable of integration.formVariables) {
    const value = given[variable.key] ?? variable.defaultValue;
    if (value !== undefined) values[variable.key] = value;
    else values[variable.key] = variable.type === "boolean" ? true : `$${variable.key.toUpperCase()}`;
  }
  return values;
}

/**
 * A value typed on a command line as the variable's type: `true`/`false` (or yes/no, 1/0) for
 * a boolean, the text itself otherwise. Undefined when a boolean is given anything else.
 */
export function coerceFormValue(variable: FormVariable, text: string): string | boolean | undefined {
  if (variable.type !== "boolean") return text;
  const lower = text.trim().toLowerCase();
  if (lower === "true" || lower === "yes" || lower === "1") return true;
  if (lower === "false" || lower === "no" || lower === "0") return false;
  return undefined;
}
