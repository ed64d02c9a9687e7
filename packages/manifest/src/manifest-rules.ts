import { validatePolicy } from "@hookwire/policy";
import { type CompiledTemplate, compileTemplate, TemplateError } from "@hookwire/templates";
import type { ManifestProblem, ManifestProblemCode } from "./errors";
import type { FormVariable } from "./integration";

/**
 * The framework's rules that a JSON schema cannot say, checked on a manifest that already
 * passed the schema. Each finding names the manifest file and the JSON pointer.
 */

const HOOK = "/capabilities/auditLogEventsHook";

export interface RuleContext {
  file: string;
  problems: ManifestProblem[];
  notices: ManifestProblem[];
}

function problem(context: RuleContext, code: ManifestProblemCode, pointer: string, message: string): void {
  context.problems.push({ file: context.file, pointer, code, message });
}

export function checkFormVariables(variables: readonly FormVariable[], context: RuleContext): void {
  const seen = new Map<string, number>();
  variables.forEach((variable, index) => {
    const at = `/formVariables/${index}`;
    const earlier = seen.get(variable.key);
    if (earlier !== undefined) {
      problem(
        context,
        "MANIFEST_ERR_DUPLICATE_VARIABLE",
        `${at}/key`,
        `"${variable.key}" is already the key of /formVariables/${earlier}`,
      );
    }
    seen.set(variable.key, index);

    if (variable.isSecret === true && variable.type !== "string") {
      problem(
        context,
        "MANIFEST_ERR_SECRET_NOT_STRING",
        `${at}/isSecret`,
        `only a string variable can be a secret; "${variable.key}" is a ${variable.type}`,
      );
    }
    if (variable.defaultValue !== undefined) checkDefault(variable, at, context);
    if (variable.type === "enum" && (variable.allowedValues?.length ?? 0) === 0) {
      problem(
        context,
        "MANIFEST_ERR_ENUM_VALUES",
        `${at}/allowedValues`,
        `enum variable "${variable.key}" needs allowedValues`,
      );
    }
    const hasDynamicOptions = (variable as { dynamicOptions?: unknown }).dynamicOptions !== undefined;
    if (variable.type === "dynamicEnum" && !hasDynamicOptions) {
      problem(
        context,
        "MANIFEST_ERR_DYNAMIC_OPTIONS",
        `${at}/dynamicOptions`,
        "a dynamicEnum variable needs dynamicOptions",
      );
    }
    if (variable.type !== "dynamicEnum" && hasDynamicOptions) {
      problem(
        context,
        "MANIFEST_ERR_DYNAMIC_OPTIONS",
        `${at}/dynamicOptions`,
        "only a dynamicEnum variable has dynamicOptions",
      );
    }
  });
}

function checkDefault(variable: FormVariable, at: string, context: RuleContext): void {
  const value = variable.defaultValue;
  if (variable.isOptional !== true) {
    problem(
      context,
      "MANIFEST_ERR_DEFAULT_NOT_OPTIONAL",
      `${at}/defaultValue`,
      `"defaultValue" is only valid with "isOptional": true (use "placeholder" for a hint on a required variable)`,
    );
  }
  const wantsBoolean = variable.type === "boolean";
  if (wantsBoolean !== (typeof value === "boolean")) {
    problem(
      context,
      "MANIFEST_ERR_DEFAULT_TYPE",
      `${at}/defaultValue`,
      `the default of a ${variable.type} variable must be a ${wantsBoolean ? "boolean" : "string"}`,
    );
    return;
  }
  if (
    variable.type === "enum" &&
    typeof value === "string" &&
    variable.allowedValues?.includes(value) === false
  ) {
    problem(
      context,
      "MANIFEST_ERR_DEFAULT_TYPE",
      `${at}/defaultValue`,
      `the default "${value}" is not in allowedValues`,
    );
  }
}

export function checkSignature(
  signature: { headerName: string; hmacSecretFormVariableKey: string } | undefined,
  variables: readonly FormVariable[],
  context: RuleContext,
): void {
  if (signature === undefined) return;
  const pointer = `${HOOK}/endpoint/hmacSignature/hmacSecretFormVariableKey`;
  const key = signature.hmacSecretFormVariableKey;
  const variable = variables.find((v) => v.key === key);
  if (variable === undefined) {
    problem(context, "MANIFEST_ERR_HMAC_VARIABLE_MISSING", pointer, `no form variable has the key "${key}"`);
  } else if (variable.isSecret !== true) {
    problem(
      context,
      "MANIFEST_ERR_HMAC_VARIABLE_NOT_SECRET",
      pointer,
      `the signing key "${key}" must be a secret form variable ("isSecret": true)`,
    );
  }
}

export function checkDefaultPolicy(statements: unknown[] | undefined, context: RuleContext): void {
  if (statements === undefined) return;
  const { errors, warnings } = validatePolicy(statements);
  for (const issue of errors) {
    problem(context, "MANIFEST_ERR_POLICY", `${HOOK}/defaultPolicy${issue.pointer}`, issue.message);
  }
  for (const issue of warnings) {
    context.notices.push({
      file: context.file,
      pointer: `${HOOK}/defaultPolicy${issue.pointer}`,
      code: "MANIFEST_NOTE_POLICY",
      message: issue.message,
    });
  }
}

/**
 * Compiles an endpoint template (the URL or a header value) and checks that every field it
 * reads at its top level is a form variable, `context` (the entry) or `oauth`.
 */
export function compileEndpointTemplate(
  text: string,
  pointer: string,
  variables: readonly FormVariable[],
  requiresOAuth: boolean,
  context: RuleContext,
): CompiledTemplate | undefined {
  let template: CompiledTemplate;
  try {
    template = compileTemplate(text, `${context.file}#${pointer}`);
  } catch (failure) {
    const message = failure instanceof TemplateError ? failure.message : String(failure);
    context.problems.push({ file: context.file, pointer, code: "MANIFEST_ERR_ENDPOINT_TEMPLATE", message });
    return undefined;
  }
  const keys = new Set(variables.map((v) => v.key));
  for (const path of template.analysis.paths) {
    const head = path.parts[0];
    if (!path.fromRoot || head === undefined || path.text.startsWith("@") || path.text.startsWith("this"))
      continue;
    if (head === "oauth" && !requiresOAuth) {
      context.notices.push({
        file: context.file,
        pointer,
        code: "MANIFEST_NOTE_OAUTH_NOT_REQUIRED",
        message: `"{{${path.text}}}" reads oauth, but the manifest does not set "requiresOAuth": it renders as nothing`,
      });
    } else if (head !== "context" && head !== "oauth" && !keys.has(head)) {
      problem(
        context,
        "MANIFEST_ERR_UNKNOWN_VARIABLE",
        pointer,
        `"{{${path.text}}}" reads "${head}", which is not a form variable (nor context or oauth)`,
      );
    }
  }
  return template;
}

export { HOOK as HOOK_POINTER };
