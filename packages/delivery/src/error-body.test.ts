import { expect, test } from "vitest";
import { BodyPrefix, errorBodyAllowed, keepsErrorBody, scrubSecrets, utf8Prefix } from "./error-body";

test.each([
  [true, true, true],
  [true, false, true],
  [false, true, true],
  [false, false, false],
])(
  "urlHostIsFixed %s, privateNetworksBlocked %s → kept %s",
  (urlHostIsFixed, privateNetworksBlocked, kept) => {
    expect(errorBodyAllowed({ urlHostIsFixed, privateNetworksBlocked })).toBe(kept);
  },
);

test.each([
  ["plain ASCII", Buffer.from("abc"), "abc"],
  ["a whole 2-byte character", Buffer.from("aé"), "aé"],
  ["half a 2-byte character", Buffer.from("aé").subarray(0, 2), "a"],
  ["two thirds of a 3-byte character", Buffer.from("a€").subarray(0, 3), "a"],
  ["three quarters of a 4-byte character", Buffer.from("a😀").subarray(0, 4), "a"],
  ["a whole 4-byte character", Buffer.from("a😀"), "a😀"],
  ["nothing", Buffer.alloc(0), ""],
])("utf8Prefix: %s", (_name, bytes, text) => {
  expect(utf8Prefix(bytes)).toBe(text);
});

test("BodyPrefix keeps the first bytes of a long body and says stop past the drain limit", () => {
  const prefix = new BodyPrefix(10, 8 * 1024);
  let fed = 0;
  while (prefix.add(Buffer.alloc(1024, 0x61))) fed++;
  expect(fed).toBe(8);
  expect(prefix.text()).toBe("a".repeat(10));
});

test("BodyPrefix joins the chunks that arrived and drops a character its limit cut in two", () => {
  const prefix = new BodyPrefix(6, 1000);
  expect(prefix.add(Buffer.from("par"))).toBe(true);
  expect(prefix.add(Buffer.from("ti€"))).toBe(true);
  expect(prefix.text()).toBe("parti");
});

test("keepsErrorBody: only an integration that asks for it, and only where the rule allows it", () => {
  const asks = { includeErrorResponseBody: true, urlHostIsFixed: false };
  expect(keepsErrorBody(asks, true)).toBe(true);
  expect(keepsErrorBody(asks, false)).toBe(false);
  expect(keepsErrorBody({ ...asks, urlHostIsFixed: true }, false)).toBe(true);
  // Not asked for: never, whatever the network rule ("test this hook" included).
  expect(keepsErrorBody({ includeErrorResponseBody: false, urlHostIsFixed: true }, true)).toBe(false);
});

test("scrubSecrets blanks each secret as it is, base64-encoded and URL-encoded, and leaves the rest", () => {
  const secret = "s3cr3t/value+x";
  const echo = [
    `authorization: Bearer ${secret}`,
    `basic: ${Buffer.from(secret).toString("base64")}`,
    `query: ?key=${encodeURIComponent(secret)}`,
    "status: refused",
  ].join("\n");
  const scrubbed = scrubSecrets(echo, [secret, "ab"]);
  expect(scrubbed).not.toContain(secret);
  expect(scrubbed).not.toContain(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
  expect(scrubbed).not.toContain(encodeURIComponent(secret));
  expect(scrubbed).toContain("authorization: Bearer ********");
  // Too short to look for: "ab" stays wherever it is.
  expect(scrubbed).toContain("status: refused");
  expect(scrubSecrets("nothing here", [secret])).toBe("nothing here");
});
