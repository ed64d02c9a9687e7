import { createHmac } from "node:crypto";

/**
 * The integration framework's `hmacSignature`: lowercase hex HMAC-SHA256 of the exact body bytes.
 * Returns undefined for an empty secret, since the framework then sends no signature header.
 */
export function hmacSha256Hex(secret: string | undefined, body: string | Uint8Array): string | undefined {
  if (secret === undefined || secret === "") return undefined;
  return createHmac("sha256", secret).update(body).digest("hex");
}
