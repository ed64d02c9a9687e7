/**
 * The request a delivery's attempts sent, rebuilt for the API with every secret masked.
 *
 * In:  a delivery record, its hook (secrets decrypted, in memory only) and its integration.
 * Out: per attempt its method, URL, headers and body as the one request builder
 *      (`prepareRequest`, which the worker sends with) makes them of the record's kept payload,
 *      every secret value replaced by ********, and what could not be rebuilt said in `note`.
 *
 * Nothing of a request is stored per attempt: a failed delivery keeps its payload (for retry and
 * replay), so its body is known; a succeeded one keeps none, so only its method, URL and headers
 * are shown. They come from the hook's settings now, as the next attempt would use them.
 */
import type { OAuthCredentials } from "@hookwire/manifest";
import { type Integration, prepareRequest } from "@hookwire/manifest";
import { type DeliveryRecord, type Hook, REDACTED } from "@hookwire/store";
import { escapeJsonString, htmlEscaped, TemplateError } from "@hookwire/templates";
import { ApiError } from "../errors";

export interface ShownRequest {
  attempt: number;
  /** When the attempt started (epoch ms). */
  at: number;
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  /** The body sent; null when it is not kept. */
  body: string | null;
}

export interface DeliveryRequests {
  deliveryId: string;
  /** Whether the body is known (the record kept its payload). */
  bodyKept: boolean;
  /** Whether hookwire keeps this integration's error answers (its URL host is fixed, or private networks are blocked). */
  keepsErrorBody: boolean;
  /** What of the requests could not be rebuilt, and from what they were. */
  note: string;
  requests: ShownRequest[];
}

/** Headers whose values are computed from a secret at send time: never shown, never rebuilt. */
const STANDARD_SIGNATURE = "webhook-signature";
const STANDARD_TIMESTAMP = "webhook-timestamp";

/** A header value written as a credential: a scheme, then the credential itself. */
const CREDENTIAL = /^(basic|bearer|token|digest|apikey)\s+\S+$/i;

/** The access token a rebuilt request carries in place of the hook's: masked like a secret. */
const TOKEN_STAND_IN = "hookwire-oauth-access-token-stand-in";

export function deliveryRequests(
  record: DeliveryRecord,
  hook: Hook,
  integration: Integration,
  privateNetworksBlocked: boolean,
  defaultConcurrency: number,
): DeliveryRequests {
  const payload = record.payload;
  const bodyKept = payload !== undefined && (payload.body !== undefined || payload.entry !== undefined);
  const oauth: OAuthCredentials | null =
    integration.requiresOAuth && hook.oauth
      ? { baseURI: hook.oauth.baseURI, accessToken: TOKEN_STAND_IN }
      : null;
  const secrets = secretValues(hook, integration);
  secrets.push(TOKEN_STAND_IN);
  const signatureName = integration.endpoint.hmacSignature?.headerName.toLowerCase();

  let built: ReturnType<typeof prepareRequest>;
  try {
    built = prepareRequest(
      integration,
      hook,
      {
        id: record.id,
        templateKey: payload?.templateKey ?? record.templateKey ?? "",
        // No payload kept: the URL and headers are rebuilt over an empty body, which is not shown.
        ...(bodyKept ? { body: payload?.body, entry: payload?.entry } : { body: "" }),
      },
      record.attempts.length,
      privateNetworksBlocked,
      defaultConcurrency,
      undefined,
      oauth,
    );
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new ApiError(
      "API_ERR_CONFLICT",
      `the request of delivery ${record.id} cannot be rebuilt: ${error.message}`,
    );
  }
  if (built.kind === "skip") {
    return {
      deliveryId: record.id,
      bodyKept,
      keepsErrorBody: false,
      note: `nothing is sent for this delivery: ${built.reason}`,
      requests: [],
    };
  }
  const { request } = built;
  const url = maskUrl(request.url, secrets);
  const body = bodyKept && request.body !== null ? maskText(request.body, secrets) : null;
  const requests = record.attempts.map((attempt) => ({
    attempt: attempt.attempt,
    at: attempt.at,
    method: request.method,
    url,
    headers: request.headers.map(({ name, value }) => {
      const lower = name.toLowerCase();
      if (lower === STANDARD_TIMESTAMP) return { name, value: String(Math.floor(attempt.at / 1000)) };
      if (lower === STANDARD_SIGNATURE || lower === signatureName) return { name, value: REDACTED };
      return { name, value: maskHeaderValue(value, secrets) };
    }),
    body,
  }));
  const notes = [
    "Rebuilt from the hook's settings now, by the builder the worker sends with; secret values and signatures are shown as ********.",
  ];
  if (!bodyKept) {
    notes.push(
      payload === undefined
        ? "The body is not kept: a delivery keeps its payload only while it can be retried (failed)."
        : "The body is not kept.",
    );
    if (integration.request.reads.entry)
      notes.push("The URL or a header reads the entry, which is not kept: those parts are left empty.");
  }
  return {
    deliveryId: record.id,
    bodyKept,
    keepsErrorBody: request.captureErrorBody,
    note: notes.join(" "),
    requests,
  };
}

/** The hook's secret values: its secret form variables and its OAuth secrets, in every form (secretForms). */
function secretValues(hook: Hook, integration: Integration): string[] {
  const values: string[] = [];
  const keys = new Set([...integration.secretKeys, ...hook.secretKeys]);
  for (const key of keys) {
    const value = hook.formVariables[key];
    if (typeof value === "string" && value !== "") values.push(value);
  }
  if (hook.oauth !== undefined) {
    for (const field of ["clientSecret", "accessToken", "refreshToken"] as const) {
      const value = (hook.oauth as Record<string, unknown>)[field];
      if (typeof value === "string" && value !== "") values.push(value);
    }
  }
  if (hook.secretRotation !== undefined) values.push(hook.secretRotation.previous);
  return secretForms(values);
}

/** Every form a secret value may stand in within a request, longest first. */
export function secretForms(values: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    // As it may stand in a request: raw, URL-encoded, base64 (basicAuthHeaderValue), as `{{x}}`
    // renders it (HTML-escaped) and as a JSON template's string holds it.
    for (const form of [value, encodeURI(value), encodeURIComponent(value), htmlEscaped(value)]) {
      forms.add(form);
      forms.add(escapeJsonString(form));
    }
    forms.add(Buffer.from(value).toString("base64"));
  }
  // Longest first: a secret that holds another is masked whole.
  return [...forms].filter((form) => form !== "").sort((a, b) => b.length - a.length);
}

/** Every occurrence of a secret replaced by ********, whatever its length. */
export function maskText(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (secret !== "") masked = masked.split(secret).join(REDACTED);
  return masked;
}

/**
 * A URL with its secrets masked, keeping where it went: a secret that is itself a URL (a Slack
 * webhook) keeps its scheme and host, the rest masked; the userinfo's password is masked.
 */
export function maskUrl(url: string, secrets: readonly string[]): string {
  let masked = url;
  for (const secret of secrets) {
    if (secret === "" || !masked.includes(secret)) continue;
    let origin: string | undefined;
    try {
      const parsed = new URL(secret);
      origin = parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : undefined;
    } catch {
      origin = undefined;
    }
    masked = masked.split(secret).join(origin === undefined ? REDACTED : `${origin}/${REDACTED}`);
  }
  try {
    const parsed = new URL(masked);
    if (parsed.password !== "") {
      parsed.password = REDACTED;
      return parsed.toString();
    }
  } catch {
    // Not a URL (a template that rendered oddly): shown as it is, secrets already masked.
  }
  return masked;
}

/** A header value with its secrets masked, and the credential of an Authorization-like value too. */
function maskHeaderValue(value: string, secrets: readonly string[]): string {
  const masked = maskText(value, secrets);
  if (CREDENTIAL.test(masked)) return `${masked.split(/\s+/)[0]} ${REDACTED}`;
  return masked;
}
