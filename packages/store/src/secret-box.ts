import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { StoreError } from "./errors";

const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  /** Names the key in what it sealed: the first 8 hex digits of the SHA-256 of its bytes. */
  id: string;
  bytes: Buffer;
}

/**
 * AES-256-GCM for secrets at rest. The keys come from HOOKWIRE_SECRET_KEY: one or several, comma
 * separated, each 32 bytes written as 64 hex digits or as base64, or a passphrase of 16
 * characters or more (stretched with scrypt; a passphrase in a list may not hold a comma). The
 * first key seals; every key opens, so a new key is put first and the old one kept after it until
 * `hookwire secrets rotate` has sealed everything again under the new one.
 *
 * Ciphertexts read `v2.<key id>.<iv>.<tag>.<data>` (base64url), naming the key that sealed them.
 * Those of before, `v1.<iv>.<tag>.<data>`, name none: each key is tried.
 */
export class SecretBox {
  readonly #keys: readonly Key[];

  constructor(secretKey: string) {
    const parts = keysOf(secretKey);
    this.#keys = parts.map((part, index) => {
      const bytes = deriveKey(part, parts.length === 1 ? undefined : index);
      return { id: createHash("sha256").update(bytes).digest("hex").slice(0, 8), bytes };
    });
  }

  /** The id of the key that seals, as sealed values name it. */
  get sealingKeyId(): string {
    return this.#keys[0]!.id;
  }

  /** The id of the key that sealed `sealed` (undefined: a v1 value, which names none). */
  static keyIdOf(sealed: string): string | undefined {
    const [version, id] = sealed.split(".");
    return version === "v2" ? id : undefined;
  }

  seal(plainText: string): string {
    const key = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key.bytes, iv);
    const data = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((b) => b.toString("base64url"));
    return `v2.${key.id}.${parts.join(".")}`;
  }

  open(sealed: string): string {
    const fields = sealed.split(".");
    if (fields[0] === "v2" && fields.length === 5) {
      const key = this.#keys.find((k) => k.id === fields[1]);
      if (key === undefined) {
        throw new StoreError(
          "STORE_ERR_DECRYPT",
          `a stored secret was sealed with a key (id ${fields[1]}) that is not in HOOKWIRE_SECRET_KEY`,
        );
      }
      return decrypt(key.bytes, fields[2]!, fields[3]!, fields[4]!);
    }
    if (fields[0] === "v1" && fields.length === 4) {
      let failure: unknown;
      for (const key of this.#keys) {
        try {
          return decrypt(key.bytes, fields[1]!, fields[2]!, fields[3]!);
        } catch (error) {
          failure = error;
        }
      }
      throw failure;
    }
    throw new StoreError("STORE_ERR_DECRYPT", "a stored secret is not in the v1 or v2 format");
  }
}

/**
 * The keys of HOOKWIRE_SECRET_KEY, comma separated. A value with a comma whose parts are not all
 * keys is one passphrase (a comma in a passphrase, as before lists), unless a part is a 32-byte
 * key: then it is a list, and its wrong part is named.
 */
function keysOf(secretKey: string): string[] {
  if (!secretKey.includes(",")) return [secretKey];
  const parts = secretKey.split(",").map((part) => part.trim());
  const valid = (part: string) => {
    try {
      deriveKey(part);
      return true;
    } catch {
      return false;
    }
  };
  if (parts.every(valid) || parts.some(isRawKey)) return parts;
  return [secretKey];
}

function decrypt(key: Buffer, iv: string, tag: string, data: string): string {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), {
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

/** 32 bytes written as 64 hex digits or as base64. */
function isRawKey(secretKey: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(secretKey) || /^[A-Za-z0-9+/_-]{43}=?$/.test(secretKey);
}

/** One key's bytes; `index` names its place in a list of several, for the error. */
function deriveKey(secretKey: string, index?: number): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(secretKey)) return Buffer.from(secretKey, "hex");
  const decoded = Buffer.from(secretKey, "base64");
  if (decoded.length === 32 && /^[A-Za-z0-9+/_-]{43}=?$/.test(secretKey)) return decoded;
  if (secretKey.length >= 16) return scryptSync(secretKey, "hookwire-secret-box", 32);
  throw new StoreError(
    "STORE_ERR_BAD_SECRET_KEY",
    `HOOKWIRE_SECRET_KEY${index === undefined ? "" : ` (key ${index + 1} of the list)`} must be 32 bytes (64 hex digits or base64) or a passphrase of at least 16 characters`,
  );
}

/** A fresh key in the form HOOKWIRE_SECRET_KEY takes, for `npm start` to keep in .data/. */
export function generateSecretKey(): string {
  return randomBytes(32).toString("hex");
}
