import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { StoreError } from "./errors";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets at rest. The key comes from HOOKWIRE_SECRET_KEY: 32 bytes written as 64
 * hex digits or as base64, or any passphrase of 16 characters or more (stretched with scrypt).
 * Ciphertexts read `v1.<iv>.<tag>.<data>` in base64url, so the format can change later.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(secretKey: string) {
    this.#key = deriveKey(secretKey);
  }

  seal(plainText: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const data = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((b) => b.toString("base64url"));
    return `${VERSION}.${parts.join(".")}`;
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(".");
    if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
      throw new StoreError("STORE_ERR_DECRYPT", "a stored secret is not in the v1 format");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    } catch (cause) {
      throw new StoreError("STORE_ERR_DECRYPT", undefined, { cause });
    }
  }
}

function deriveKey(secretKey: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(secretKey)) return Buffer.from(secretKey, "hex");
  const decoded = Buffer.from(secretKey, "base64");
  if (decoded.length === 32 && /^[A-Za-z0-9+/_-]{43}=?$/.test(secretKey)) return decoded;
  if (secretKey.length >= 16) return scryptSync(secretKey, "hookwire-secret-box", 32);
  throw new StoreError(
    "STORE_ERR_BAD_SECRET_KEY",
    "HOOKWIRE_SECRET_KEY must be 32 bytes (64 hex digits or base64) or a passphrase of at least 16 characters",
  );
}

/** A fresh key in the form HOOKWIRE_SECRET_KEY takes, for `npm start` to keep in .data/. */
export function generateSecretKey(): string {
  return randomBytes(32).toString("hex");
}
