import { findJsonFault } from "@hookwire/templates";
import { buildRequest } from "./attempt-request";
import { checkFormValues, placeholderFormValues } from "./form-values";
import type { FormValues, Integration, TemplateKey } from "./integration";

/** What a hook of an integration would send for an entry: `hookwire preview --json` and the API's preview. */
export interface Preview {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  /** The exact body, or null when nothing would be sent (it rendered empty). */
  body: string | null;
  /** The template used: a template key, "standard" or "builtin". */
  template: string;
  warnings: string[];
}

/**
 * Renders the request without sending it. Form values not given get their default, else the
 * framework preview's placeholder ($KEY, or true for a boolean), each with a warning; a JSON
 * template that renders invalid JSON is shown anyway, with a warning saying where.
 * Throws the templates package's TemplateError when a template cannot render at all.
 * `posted`: the entry as it was given, before it was read into `entry` (the standard payload).
 */
export function previewRequest(
  integration: Integration,
  entry: object,
  given: FormValues,
  templateKey?: TemplateKey,
  posted?: object,
): Preview {
  const warnings: string[] = [];
  if (!integration.deliverable)
    warnings.push("the integration's deliveryMethod is custom: hookwire would not send it");

  const formValues = placeholderFormValues(integration, given);
  for (const variable of integration.formVariables) {
    if (given[variable.key] === undefined && variable.defaultValue === undefined) {
      warnings.push(
        `no value for "${variable.key}": the placeholder ${JSON.stringify(formValues[variable.key])} is used`,
      );
    }
  }
  for (const error of checkFormValues(integration, given).errors) {
    if (error.pointer.slice(1) in given) warnings.push(`form value ${error.pointer}: ${error.message}`);
  }

  const oauth = integration.requiresOAuth
    ? { baseURI: "$OAUTH_BASE_URI", accessToken: "$OAUTH_ACCESS_TOKEN" }
    : null;
  // Signed only with a secret given: a placeholder's signature would look real and verify nowhere.
  const signature = integration.endpoint.hmacSignature;
  const signed = signature !== undefined && given[signature.hmacSecretFormVariableKey] !== undefined;
  const request = buildRequest(integration, formValues, entry, {
    oauth,
    ...(templateKey === undefined ? {} : { templateKey }),
    ...(posted === undefined ? {} : { posted }),
    checkJson: false,
    sign: signed,
  });
  const { templateKey: used, body } = request;

  // The built-in default template is a JSON template; the standard payload is JSON by making.
  const jsonTemplate = used === "builtin" || integration.templates[used as TemplateKey]?.isJson === true;
  if (body === null) warnings.push("the body is empty: nothing would be sent for this entry");
  if (body !== null && jsonTemplate) {
    const fault = findJsonFault(body);
    if (fault !== undefined) {
      warnings.push(
        `the body is not valid JSON (line ${fault.line}, column ${fault.column}, position ${fault.position}: expected ${fault.expected}); delivery would refuse it`,
      );
    }
  }

  if (signature !== undefined && body !== null && !signed) {
    const secretKey = signature.hmacSecretFormVariableKey;
    warnings.push(`no ${signature.headerName} signature: give a value for the secret "${secretKey}"`);
  }
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body,
    template: used,
    warnings,
  };
}
