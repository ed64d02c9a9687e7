import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { hmacSha256Hex, standardWebhookHeaders } from "./signature";

describe("hmacSha256Hex", () => {
  test("lowercase hex HMAC-SHA256 of the exact bytes", () => {
    // RFC 4231 test case 2.
    expect(hmacSha256Hex("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  test("no signature for an empty or missing secret", () => {
    expect(hmacSha256Hex("", "{}")).toBeUndefined();
    expect(hmacSha256Hex(undefined, "{}")).toBeUndefined();
  });
});

describe("standardWebhookHeaders", () => {
  test("matches the Standard Webhooks reference vector", () => {
    const headers = standardWebhookHeaders({
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestampSeconds: 1614265330,
      body: '{"test": 2432232314}',
    });
    expect(headers).toEqual([
      { name: "webhook-id", value: "msg_p5jXN8AQM9LWM0D4loKWxJek" },
      { name: "webhook-timestamp", value: "1614265330" },
      { name: "webhook-signature", value: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    ]);
  });

  test("a secret without the whsec_ prefix is used as its UTF-8 bytes", () => {
    const headers = standardWebhookHeaders({
      secret: "plain secret",
      id: "d1",
      timestampSeconds: 10.9,
      body: "{}",
    });
    const expected = createHmac("sha256", Buffer.from("plain secret")).update("d1.10.{}").digest("base64");
    expect(headers.find((h) => h.name === "webhook-signature")?.value).toBe(`v1,${expected}`);
    expect(headers.find((h) => h.name === "webhook-timestamp")?.value).toBe("10");
  });

  test("during a rotation's overlap the signature of the new secret comes first, then the old one's", () => {
    const headers = standardWebhookHeaders({
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      previousSecret: "old secret",
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestampSeconds: 1614265330,
      body: '{"test": 2432232314}',
    });
    const old = createHmac("sha256", Buffer.from("old secret"))
      .update('msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}')
      .digest("base64");
    expect(headers.find((h) => h.name === "webhook-signature")?.value).toBe(
      `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,${old}`,
    );
  });

  test("an empty secret leaves the signature out", () => {
    const headers = standardWebhookHeaders({ secret: "", id: "d1", timestampSeconds: 1, body: "{}" });
    expect(headers.map((h) => h.name)).toEqual(["webhook-id", "webhook-timestamp"]);
  });

  test.each(["whsec_", "whsec_not base64!", "whsec_abcde"])(
    "a malformed whsec_ secret (%s) is refused",
    (secret) => {
      expect(() => standardWebhookHeaders({ secret, id: "d1", timestampSeconds: 1, body: "{}" })).toThrow(
        expect.objectContaining({ code: "DELIVERY_ERR_BAD_SECRET" }),
      );
    },
  );

  test("the refusal does not quote the secret", () => {
    try {
      standardWebhookHeaders({ secret: "whsec_sup3r-s3cret!", id: "d1", timestampSeconds: 1, body: "{}" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("sup3r");
    }
  });
});
