import { hmacSha256Hex } from "@hookwire/delivery";
import { type CompiledTemplate, compileTemplate } from "@hookwire/templates";
import type { FormValues, Integration } from "./integration";
import { requestTemplateReadsSecrets } from "./secret-reads";

/**
 * The request line and headers of a delivery, rendered leniently with the hook's form values
 * at the top level, `context` (the entry, not escaped) and `oauth`, as the framework does.
 */

interface RequestTemplates {
  url: CompiledTemplate;
  headers: { name: string; value: CompiledTemplate }[];
  readsSecrets: boolean;
}

const compiled = new WeakMap<Integration, RequestTemplates>();

function requestTemplates(integration: Integration): RequestTemplates {
  let templates = compiled.get(integration);
  if (templates === undefined) {
    const file = `${integration.dir}/manifest.json#/capabilities/auditLogEventsHook/endpoint`;
    const url = compileTemplate(integration.endpoint.url, `${file}/url`);
    const headers = integration.endpoint.headers.map((header, index) => ({
      name: header.name,
      value: compileTemplate(header.value, `${file}/headers/${index}/value`),
    }));
    const readsSecrets = [url, ...headers.map((h) => h.value)].some((t) =>
      requestTemplateReadsSecrets(t.analysis, integration.secretKeys),
    );
    templates = { url, headers, readsSecrets };
    compiled.set(integration, templates);
  }
  return templates;
}

export interface OAuthCredentials {
  baseURI: string;
  accessToken: string;
}

/**
 * Renders the URL and header values. Lenient, as in delivery; `strict` (hookwire validate)
 * reports fields they read and the context lacks.
 */
export function renderRequest(
  integration: Integration,
  formValues: FormValues,
  entry: object,
  oauth?: OAuthCredentials | null,
  options?: { strict?: boolean },
): { method: string; url: string; headers: { name: string; value: string }[] } {
  const templates = requestTemplates(integration);
  const context = { ...formValues, context: entry, oauth: oauth ?? null };
  const render = { strict: options?.strict === true };
  return {
    method: integration.endpoint.method,
    url: templates.url.render(context, render),
    headers: templates.headers.map((header) => ({
      name: header.name,
      value: header.value.render(context, render),
    })),
  };
}

/**
 * Whether the URL or a header can carry a secret form variable (a Slack webhook URL is one):
 * then the rendered request is as secret as the variable, and must not be logged as it is.
 */
export function requestReadsSecrets(integration: Integration): boolean {
  return requestTemplates(integration).readsSecrets;
}

/**
 * The integration's `hmacSignature` header for a body: the lowercase hex HMAC-SHA256 of the
 * exact bytes, keyed by the secret form variable; undefined when there is no signature or the
 * secret is empty (the framework then sends no header).
 */
export function signatureHeader(
  integration: Integration,
  formValues: FormValues,
  body: string | Uint8Array,
): { name: string; value: string } | undefined {
  const signature = integration.endpoint.hmacSignature;
  if (signature === undefined) return undefined;
  const secret = formValues[signature.hmacSecretFormVariableKey];
  const value = hmacSha256Hex(typeof secret === "string" ? secret : undefined, body);
  return value === undefined ? undefined : { name: signature.headerName, value };
}
