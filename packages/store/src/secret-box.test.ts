import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { generateSecretKey, SecretBox } from "./secret-box";

/** A value as the first format sealed it (`v1.<iv>.<tag>.<data>`, no key id), under a hex key. */
function sealedV1(hexKey: string, plainText: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(hexKey, "hex"), iv);
  const data = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()]);
  return `v1.${[iv, cipher.getAuthTag(), data].map((b) => b.toString("base64url")).join(".")}`;
}

describe("SecretBox", () => {
  const box = new SecretBox(generateSecretKey());

  test("opens what it sealed, and never shows the plain text", () => {
    const sealed = box.seal("xoxb-super-secret");
    expect(sealed).not.toContain("xoxb");
    expect(sealed.startsWith(`v2.${box.sealingKeyId}.`)).toBe(true);
    expect(box.open(sealed)).toBe("xoxb-super-secret");
  });

  test("seals the same text differently each time (random IV)", () => {
    expect(box.seal("same")).not.toBe(box.seal("same"));
  });

  test("refuses a tampered ciphertext", () => {
    const sealed = box.seal("value");
    const parts = sealed.split(".");
    const data = Buffer.from(parts[4]!, "base64url");
    data[0] = data[0]! ^ 1;
    parts[4] = data.toString("base64url");
    expect(() => box.open(parts.join("."))).toThrowError(
      expect.objectContaining({ code: "STORE_ERR_DECRYPT" }),
    );
  });

  test("refuses a ciphertext sealed with another key", () => {
    const other = new SecretBox(generateSecretKey());
    expect(() => other.open(box.seal("value"))).toThrowError(
      expect.objectContaining({ code: "STORE_ERR_DECRYPT" }),
    );
  });

  test("takes hex, base64 and long passphrases, and names the rule for a short key", () => {
    expect(() => new SecretBox("a".repeat(64))).not.toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 7).toString("base64"))).not.toThrow();
    expect(() => new SecretBox("correct horse battery staple")).not.toThrow();
    expect(() => new SecretBox("short")).toThrowError(/at least 16 characters/);
  });

  test("with several keys, seals under the first and opens what any of them sealed, v1 values too", () => {
    const [oldKey, newKey] = [generateSecretKey(), generateSecretKey()];
    const before = new SecretBox(oldKey);
    const both = new SecretBox(`${newKey}, ${oldKey}`);
    expect(both.sealingKeyId).toBe(new SecretBox(newKey).sealingKeyId);
    expect(SecretBox.keyIdOf(both.seal("x"))).toBe(both.sealingKeyId);
    expect(both.open(before.seal("sealed under the old key"))).toBe("sealed under the old key");
    expect(both.open(sealedV1(oldKey, "from before key ids"))).toBe("from before key ids");
    expect(SecretBox.keyIdOf(sealedV1(oldKey, "x"))).toBeUndefined();
    // Once the old key is dropped, what it sealed says which key it needs.
    expect(() => new SecretBox(newKey).open(before.seal("x"))).toThrowError(
      `sealed with a key (id ${before.sealingKeyId}) that is not in HOOKWIRE_SECRET_KEY`,
    );
  });

  test("a passphrase with a comma is one key; a list names the key that is wrong", () => {
    const comma = new SecretBox("correct, horse battery staple");
    expect(comma.open(comma.seal("x"))).toBe("x");
    expect(() => new SecretBox(`${generateSecretKey()},short`)).toThrowError(/key 2 of the list/);
  });
});
