import { createHmac } from "node:crypto";
import type { HeaderField } from "./attempt";
import { DeliveryError } from "./errors";

/**
 * The integration framework's `hmacSignature`: lowercase hex HMAC-SHA256 of the exact body bytes.
 * Returns undefined for an empty secret, since the framework then sends no signature header.
 */
export function hmacSha256Hex(secret: string | undefined, body: string | Uint8Array): string | undefined {
  if (secret === undefined || secret === "") return undefined;
  return createHmac("sha256", secret).update(body).digest("hex");
}

const standardSecretPrefix = "whsec_";
const base64Text = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_<base64>` is the spec's own form (the key is
 * the decoded bytes, as every Standard Webhooks verifier expects); anything else is taken as the
 * UTF-8 bytes of the secret, since hook secrets here are form variables an operator typed.
 */
function standardWebhookKey(secret: string): Buffer {
  if (!secret.startsWith(standardSecretPrefix)) return Buffer.from(secret, "utf8");
  const encoded = secret.slice(standardSecretPrefix.length);
  if (encoded === "" || !base64Text.test(encoded)) {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_SECRET",
      `a Standard Webhooks secret starting with "${standardSecretPrefix}" must continue with base64 ` +
        `(A-Z a-z 0-9 + /, optional = padding); this one does not (${encoded.length} characters after the prefix)`,
    );
  }
  return Buffer.from(encoded, "base64");
}

/**
 * Standard Webhooks (standardwebhooks.com) headers: `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. With an empty secret
 * the signature is left out, as with the framework's `hmacSignature`. `previousSecret`: while a
 * rotated secret's overlap lasts, its signature follows the new one's, space separated
 * (`v1,<new> v1,<old>`), as the specification lets a receiver verify either.
 */
export function standardWebhookHeaders(input: {
  secret: string;
  previousSecret?: string | undefined;
  id: string;
  timestampSeconds: number;
  body: string;
}): HeaderField[] {
  const timestamp = String(Math.floor(input.timestampSeconds));
  const headers: HeaderField[] = [
    { name: "webhook-id", value: input.id },
    { name: "webhook-timestamp", value: timestamp },
  ];
  if (input.secret === "") return headers;
  const signed = `${input.id}.${timestamp}.${input.body}`;
  const signatures = [input.secret, input.previousSecret]
    .filter((secret): secret is string => secret !== undefined && secret !== "")
    .map(
      (secret) => `v1,${createHmac("sha256", standardWebhookKey(secret)).update(signed).digest("base64")}`,
    );
  headers.push({ name: "webhook-signature", value: signatures.join(" ") });
  return headers;
}
