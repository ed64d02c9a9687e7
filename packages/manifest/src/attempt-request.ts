/**
 * The one builder of a delivery's HTTP request (`buildRequest`): the worker's attempts and the
 * API's "test this hook" call it through `prepareRequest`, the preview route and `hookwire
 * preview` through `previewRequest`. It lives here, beside the rendering it calls, so that
 * neither service imports the other; the hook and the delivery are taken by the fields it reads
 * (the store's Hook and the queue's JobDelivery have them).
 */
import {
  type AttemptResult,
  type ClientTls,
  type HookOAuth,
  keepsErrorBody,
  type OAuthTokens,
  type OutboundRequest,
  type Sender,
  standardWebhookHeaders,
} from "@hookwire/delivery";
import { type RenderBodyOptions, renderBody } from "./body";
import type { FormValues, Integration, TemplateKey } from "./integration";
import { type OAuthCredentials, renderRequest, signatureHeader } from "./request";

/** What of a hook the request is built from. */
export interface RequestHook {
  id: string;
  formVariables: FormValues;
  delivery: {
    concurrency?: number | undefined;
    timeoutMs?: number | undefined;
    standardWebhooks?: boolean | undefined;
    tls?: ClientTls | undefined;
  };
  /** A rotated signing secret: the old one signs beside the new until `until` (Standard Webhooks). */
  secretRotation?: { key: string; previous: string; until: string } | undefined;
}

/** What of a delivery the request is built from. */
export interface RequestDelivery {
  id: string;
  templateKey: string;
  body?: string | undefined;
  entry?: Record<string, unknown> | undefined;
}

/** A request as an integration makes it of an entry. `body` null: it rendered blank, nothing is sent. */
export interface BuiltRequest {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  body: string | null;
  /** The template used: a template key, "standard" or "builtin"; the delivery's, for a body given. */
  templateKey: string;
}

export interface BuildOptions extends Pick<RenderBodyOptions, "templateKey" | "posted" | "checkJson"> {
  oauth?: OAuthCredentials | null;
  /** The body rendered already (at intake), with the template it came from. */
  rendered?: { body: string; templateKey: string };
  /** Add the integration's hmacSignature header (default true). */
  sign?: boolean;
}

/**
 * Renders an integration's request for an entry with the given form values: the URL and headers
 * from the endpoint's templates, the body from the entry kind's template (or as given), and the
 * hmacSignature over the body's exact bytes. Throws the template package's TemplateError.
 */
export function buildRequest(
  integration: Integration,
  formValues: FormValues,
  entry: object,
  options: BuildOptions = {},
): BuiltRequest {
  const { templateKey: forced, posted, checkJson, oauth = null, rendered, sign = true } = options;
  const { body, templateKey } =
    rendered ??
    renderBody(integration, entry, formValues, {
      ...(forced === undefined ? {} : { templateKey: forced }),
      ...(posted === undefined ? {} : { posted }),
      ...(checkJson === undefined ? {} : { checkJson }),
    });
  const { method, url, headers } = renderRequest(integration, formValues, entry, oauth);
  if (sign && body !== null) {
    const signature = signatureHeader(integration, formValues, body);
    if (signature !== undefined) headers.push(signature);
  }
  return { method, url, headers, body, templateKey };
}

export type PreparedRequest =
  | { kind: "send"; request: OutboundRequest; templateKey: string }
  | { kind: "skip"; reason: string; templateKey: string };

/**
 * Builds the request of one attempt from the hook's CURRENT settings: secrets are read here,
 * at send time, so a rotated secret is used from the next attempt on and none ever sits in Redis.
 * Throws the template package's error when a body rendered here fails. `privateNetworksBlocked`:
 * whether only public unicast is reachable, which decides with the integration whether an error
 * body is kept (keepsErrorBody). `defaultConcurrency` is HOOKWIRE_HOOK_CONCURRENCY: a hook without
 * its own concurrency gets that many connections per origin. `oauth`: the hook's access token and
 * base URI, for a `requiresOAuth` integration (the framework's `oauth.baseURI`, `oauth.accessToken`).
 */
export function prepareRequest(
  integration: Integration,
  hook: RequestHook,
  delivery: RequestDelivery,
  attempt: number,
  privateNetworksBlocked: boolean,
  defaultConcurrency: number,
  forceTemplate?: TemplateKey,
  oauth: OAuthCredentials | null = null,
): PreparedRequest {
  const { method, url, headers, body, templateKey } = buildRequest(
    integration,
    hook.formVariables,
    delivery.entry ?? {},
    {
      oauth,
      ...(delivery.body === undefined
        ? {}
        : { rendered: { body: delivery.body, templateKey: delivery.templateKey } }),
      ...(forceTemplate === undefined ? {} : { templateKey: forceTemplate }),
    },
  );
  if (body === null) return { kind: "skip", reason: "the template rendered an empty body", templateKey };
  const signing = integration.endpoint.hmacSignature;
  const secret = signing === undefined ? undefined : hook.formVariables[signing.hmacSecretFormVariableKey];
  if (hook.delivery.standardWebhooks && typeof secret === "string" && secret !== "") {
    const now = Date.now();
    const rotation = hook.secretRotation;
    const previousSecret =
      rotation !== undefined &&
      rotation.key === signing?.hmacSecretFormVariableKey &&
      Date.parse(rotation.until) > now
        ? rotation.previous
        : undefined;
    headers.push(
      ...standardWebhookHeaders({
        secret,
        previousSecret,
        id: delivery.id,
        timestampSeconds: Math.floor(now / 1000),
        body,
      }),
    );
  }
  const captureErrorBody = keepsErrorBody(integration, privateNetworksBlocked);
  return {
    kind: "send",
    templateKey,
    request: {
      method,
      url,
      headers,
      body,
      hookId: hook.id,
      connections: hook.delivery.concurrency ?? defaultConcurrency,
      deliveryId: delivery.id,
      attempt,
      captureErrorBody,
      // Only a body that is kept needs scrubbing: nothing more on the common path.
      ...(captureErrorBody ? { secrets: secretsOf(integration, hook, url, headers, oauth) } : {}),
      ...(hook.delivery.timeoutMs !== undefined ? { timeoutMs: hook.delivery.timeoutMs } : {}),
      ...(hook.delivery.tls !== undefined ? { tls: hook.delivery.tls } : {}),
    },
  };
}

/** A header value that is a credential: a scheme, then the credential itself. */
const CREDENTIAL = /^(basic|bearer|token|digest|apikey)\s+(\S+)$/i;

/**
 * Every secret value a request carries, for scrubbing an echo of it out of a kept error body: the
 * secret form variables, the OAuth access token, the header values holding one of them or
 * written as a credential (`Basic ...`, `Bearer ...`: the value, the credential, a Basic one
 * decoded, whatever the header's name) and the URL's userinfo.
 */
function secretsOf(
  integration: Integration,
  hook: RequestHook,
  url: string,
  headers: readonly { name: string; value: string }[],
  oauth: OAuthCredentials | null,
): string[] {
  const secrets: string[] = [];
  for (const key of integration.secretKeys) {
    const value = hook.formVariables[key];
    if (typeof value === "string" && value !== "") secrets.push(value);
  }
  if (oauth !== null) secrets.push(oauth.accessToken);
  const known = [...secrets];
  for (const { value } of headers) {
    const credential = CREDENTIAL.exec(value);
    if (credential === null && !known.some((secret) => value.includes(secret))) continue;
    secrets.push(value);
    if (credential === null) continue;
    secrets.push(credential[2]!);
    if (credential[1]!.toLowerCase() === "basic")
      secrets.push(Buffer.from(credential[2]!, "base64").toString());
  }
  try {
    const { username, password } = new URL(url);
    if (password !== "")
      secrets.push(
        decodeURIComponent(password),
        `${decodeURIComponent(username)}:${decodeURIComponent(password)}`,
      );
  } catch {
    // Not a URL: the sender refuses it before anything is kept.
  }
  return secrets;
}

/** What an attempt is made with, besides the hook and the delivery. */
export interface AttemptDeps {
  sender: Pick<Sender, "send">;
  /** The access tokens of hooks of requiresOAuth integrations. */
  oauth: OAuthTokens;
  /** See prepareRequest. */
  privateNetworksBlocked: boolean;
  defaultConcurrency: number;
}

export type AttemptMade =
  | { kind: "skip"; reason: string; templateKey: string }
  /** Sent (or refused before sending: no token to be had); `templateKey` once it was rendered. */
  | { kind: "sent"; result: AttemptResult; templateKey?: string };

/**
 * One attempt of a delivery, for the worker and "test this hook" alike: the hook's access token
 * for a requiresOAuth integration (none to be had is the attempt's failure), the request built
 * and sent, and on a 401 one new token and one more try, the only one that counts. Throws the
 * template package's TemplateError when the request cannot be rendered. `cancel` cuts it short.
 */
export async function makeAttempt(
  deps: AttemptDeps,
  integration: Integration,
  hook: RequestHook & { oauth?: HookOAuth | null | undefined },
  delivery: RequestDelivery,
  attempt: number,
  forceTemplate?: TemplateKey,
  cancel?: AbortSignal,
): Promise<AttemptMade> {
  const withOAuth = integration.requiresOAuth && hook.oauth ? { id: hook.id, oauth: hook.oauth } : undefined;
  const first = withOAuth === undefined ? undefined : await deps.oauth.credentials(withOAuth);
  if (first !== undefined && "failed" in first) return { kind: "sent", result: first.failed };
  // No closure here: this runs for every attempt, and most hooks have no OAuth.
  const { privateNetworksBlocked, defaultConcurrency } = deps;
  const prepared = prepareRequest(
    integration,
    hook,
    delivery,
    attempt,
    privateNetworksBlocked,
    defaultConcurrency,
    forceTemplate,
    first?.oauth ?? null,
  );
  if (prepared.kind === "skip") return prepared;
  if (cancel !== undefined) prepared.request.cancel = cancel;
  let result = await deps.sender.send(prepared.request);
  if (result.status === 401 && withOAuth !== undefined && first !== undefined) {
    // The receiver refused the token: one new one, one more try, and only that one counts.
    const again = await deps.oauth.credentials(withOAuth, first.oauth.accessToken);
    if ("failed" in again) result = again.failed;
    else {
      const retried = prepareRequest(
        integration,
        hook,
        delivery,
        attempt,
        privateNetworksBlocked,
        defaultConcurrency,
        forceTemplate,
        again.oauth,
      );
      if (retried.kind === "send") {
        if (cancel !== undefined) retried.request.cancel = cancel;
        result = await deps.sender.send(retried.request);
      }
    }
  }
  return { kind: "sent", result, templateKey: prepared.templateKey };
}
