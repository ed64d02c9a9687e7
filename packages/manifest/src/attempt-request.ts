/**
 * The one builder of a delivery's HTTP request, for the worker's attempts and the API's "test
 * this hook". It lives here, beside the rendering it calls, so that neither service imports the
 * other; the hook and the delivery are taken by the fields it reads (the store's Hook and the
 * queue's JobDelivery have them).
 */
import { keepsErrorBody, type OutboundRequest, standardWebhookHeaders } from "@hookwire/delivery";
import { renderBody } from "./body";
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
  };
}

/** What of a delivery the request is built from. */
export interface RequestDelivery {
  id: string;
  templateKey: string;
  body?: string | undefined;
  entry?: Record<string, unknown> | undefined;
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
  const entry = delivery.entry ?? {};
  let body = delivery.body;
  let templateKey = delivery.templateKey;
  if (body === undefined) {
    const rendered = renderBody(
      integration,
      entry,
      hook.formVariables,
      forceTemplate ? { templateKey: forceTemplate } : {},
    );
    templateKey = rendered.templateKey;
    if (rendered.body === null)
      return { kind: "skip", reason: "the template rendered an empty body", templateKey };
    body = rendered.body;
  }
  const { method, url, headers } = renderRequest(integration, hook.formVariables, entry, oauth);
  const signature = signatureHeader(integration, hook.formVariables, body);
  if (signature !== undefined) headers.push(signature);
  const signing = integration.endpoint.hmacSignature;
  const secret = signing === undefined ? undefined : hook.formVariables[signing.hmacSecretFormVariableKey];
  if (hook.delivery.standardWebhooks && typeof secret === "string" && secret !== "") {
    const timestampSeconds = Math.floor(Date.now() / 1000);
    headers.push(...standardWebhookHeaders({ secret, id: delivery.id, timestampSeconds, body }));
  }
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
      captureErrorBody: keepsErrorBody(integration, privateNetworksBlocked),
      ...(hook.delivery.timeoutMs !== undefined ? { timeoutMs: hook.delivery.timeoutMs } : {}),
    },
  };
}
