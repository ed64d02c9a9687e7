import { describe, expect, test } from "vitest";
import { generateSecretKey, SecretBox } from "./secret-box";

describe("SecretBox", () => {
  const box = new SecretBox(generateSecretKey());

  test("opens what it sealed, and never shows the plain text", () => {
    const sealed = box.seal("xoxb-super-secret");
    expect(sealed).not.toContain("xoxb");
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(box.open(sealed)).toBe("xoxb-super-secret");
  });

  test("seals the same text differently each time (random IV)", () => {
    expect(box.seal("same")).not.toBe(box.seal("same"));
  });

  test("refuses a tampered ciphertext", () => {
    const sealed = box.seal("value");
    const parts = sealed.split(".");
    const data = Buffer.from(parts[3]!, "base64url");
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString("base64url");
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
});
