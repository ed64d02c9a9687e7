import { hmacSha256Hex, type OutboundRequest, standardWebhookHeaders } from "@hookwire/delivery";
import { type Integration, renderBody, renderRequest } from "@hookwire/manifest";
import type { JobDelivery } from "@hookwire/queue";
import type { Hook } from "@hookwire/store";

export type PreparedRequest =
  | { kind: "send"; request: OutboundRequest; templateKey: string }
  | { kind: "skip"; reason: string; templateKey: string };

/**
 * Builds the request of one attempt from the hook's CURRENT settings: secrets are read here,
 * at send time, so a rotated secret is used from the next attempt on and none ever sits in Redis.
 * Throws the template package's error when a body rendered here fails.
 */
export function prepareRequest(
  integration: Integration,
  hook: Hook,
  delivery: JobDelivery,
  attempt: number,
  captureErrorBody: boolean,
): PreparedRequest {
  const entry = delivery.entry ?? {};
  let body = delivery.body;
  let templateKey = delivery.templateKey;
  if (body === undefined) {
    const rendered = renderBody(integration, entry, hook.formVariables);
    templateKey = rendered.templateKey;
    if (rendered.body === null)
      return { kind: "skip", reason: "the template rendered an empty body", templateKey };
    body = rendered.body;
  }
  const { method, url, headers } = renderRequest(integration, hook.formVariables, entry, null);
  const signing = integration.endpoint.hmacSignature;
  const secret = signing === undefined ? undefined : hook.formVariables[signing.hmacSecretFormVariableKey];
  if (signing !== undefined && typeof secret === "string") {
    const signature = hmacSha256Hex(secret, body);
    if (signature !== undefined) headers.push({ name: signing.headerName, value: signature });
    if (hook.delivery.standardWebhooks && secret !== "") {
      headers.push(
        ...standardWebhookHeaders({
          secret,
          id: delivery.id,
          timestampSeconds: Math.floor(Date.now() / 1000),
          body,
        }),
      );
    }
  }
  return {
    kind: "send",
    templateKey,
    request: {
      method,
      url,
      headers,
      body,
      deliveryId: delivery.id,
      attempt,
      captureErrorBody,
      ...(hook.delivery.timeoutMs !== undefined ? { timeoutMs: hook.delivery.timeoutMs } : {}),
    },
  };
}
