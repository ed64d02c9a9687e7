import { hmacSha256Hex } from "@hookwire/delivery";
import type { CompiledTemplate } from "@hookwire/templates";
import type { EndpointTemplates, FormValues, Integration } from "./integration";
import { requestTemplateReadsSecrets } from "./secret-reads";

/**
 * The request line and headers of a delivery, rendered leniently with the hook's form values
 * at the top level, `context` (the entry, not escaped) and `oauth`, as the framework does. The
 * templates are the integration's, compiled by the loader (endpointTemplates).
 */

/** The loader's record of an endpoint's compiled templates and of what they read. */
export function endpointTemplates(
  url: CompiledTemplate,
  headers: { name: string; value: CompiledTemplate }[],
  secretKeys: ReadonlySet<string>,
): EndpointTemplates {
  const all = [url, ...headers.map((h) => h.value)];
  const readsRoot = (name: string) =>
    all.some((t) =>
      t.analysis.paths.some(
        (path) =>
          path.fromRoot && (path.parts[0] === name || (path.parts.length === 0 && path.role !== "value")),
      ),
    );
  return {
    url,
    headers,
    reads: {
      entry: readsRoot("context"),
      secrets: all.some((t) => requestTemplateReadsSecrets(t.analysis, secretKeys)),
      oauth: readsRoot("oauth"),
    },
  };
}

export interface OAuthCredentials {
  baseURI: string;
  accessToken: string;
}

export interface RenderedRequest {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
}

/**
 * The request lines rendered for a hook's form values (the worker's cached hook keeps the same
 * object while the hook is unchanged), per integration, when its URL and headers do not read
 * the entry: every delivery of the hook then has the same ones, rendered once rather than once
 * per delivery (Handlebars was ~3 % of the worker's CPU). `oauth`: the token they were rendered
 * with, for templates that read it (a refreshed token renders them again).
 */
const unchanging = new WeakMap<
  FormValues,
  Map<Integration, { oauth: OAuthCredentials | null; rendered: RenderedRequest }>
>();

/** Whether request lines rendered with `kept` hold for `oauth` too (templates that read it). */
function sameOAuth(kept: OAuthCredentials | null, oauth: OAuthCredentials | null): boolean {
  return kept === oauth || (kept?.accessToken === oauth?.accessToken && kept?.baseURI === oauth?.baseURI);
}

/**
 * Renders the URL and header values. Lenient, as in delivery; `strict` (hookwire validate)
 * reports fields they read and the context lacks. The headers are the caller's to add to.
 */
export function renderRequest(
  integration: Integration,
  formValues: FormValues,
  entry: object,
  oauth?: OAuthCredentials | null,
  options?: { strict?: boolean },
): RenderedRequest {
  const strict = options?.strict === true;
  if (strict || integration.request.reads.entry) return render(integration, formValues, entry, oauth, strict);
  const token = integration.request.reads.oauth ? (oauth ?? null) : null;
  let byIntegration = unchanging.get(formValues);
  if (byIntegration === undefined) {
    byIntegration = new Map();
    unchanging.set(formValues, byIntegration);
  }
  let kept = byIntegration.get(integration);
  if (kept === undefined || !sameOAuth(kept.oauth, token)) {
    const rendered = render(integration, formValues, entry, oauth, false);
    for (const header of rendered.headers) Object.freeze(header);
    kept = { oauth: token, rendered };
    byIntegration.set(integration, kept);
  }
  const { method, url, headers } = kept.rendered;
  return { method, url, headers: headers.slice() };
}

function render(
  integration: Integration,
  formValues: FormValues,
  entry: object,
  oauth: OAuthCredentials | null | undefined,
  strict: boolean,
): RenderedRequest {
  const templates = integration.request;
  // Object.assign, not a spread: a spread copy that gains keys is slow in V8 (see contextOf).
  const context = Object.assign({}, formValues, { context: entry, oauth: oauth ?? null });
  const options = { strict };
  return {
    method: integration.endpoint.method,
    url: templates.url.render(context, options),
    headers: templates.headers.map((header) => ({
      name: header.name,
      value: header.value.render(context, options),
    })),
  };
}

/**
 * Whether the URL or a header can carry a secret form variable (a Slack webhook URL is one):
 * then the rendered request is as secret as the variable, and must not be logged as it is.
 */
export function requestReadsSecrets(integration: Integration): boolean {
  return integration.request.reads.secrets;
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
