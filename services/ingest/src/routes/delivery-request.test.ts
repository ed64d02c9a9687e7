import { escapeJsonString, htmlEscaped } from "@hookwire/templates";
import { describe, expect, test } from "vitest";
import { maskText, maskUrl, secretForms } from "./delivery-request";

describe("masking a rebuilt request", () => {
  test("a secret that is a whole URL keeps its scheme and host, the rest masked", () => {
    const secret = "https://hooks.slack.com/services/T0/B0/XyZ";
    expect(maskUrl(secret, [secret])).toBe("https://hooks.slack.com/********");
  });

  test("a secret inside a URL is masked where it stands, and a URL's password too", () => {
    expect(maskUrl("https://api.example/in?key=k-123&x=1", ["k-123"])).toBe(
      "https://api.example/in?key=********&x=1",
    );
    expect(maskUrl("https://alice:pw-9@api.example/in", [])).toBe("https://alice:********@api.example/in");
  });

  test("a secret with characters templates escape is masked as {{x}} and a JSON template render it", () => {
    const secret = 'k&y="q==';
    const forms = secretForms([secret]);
    const rendered = [
      `X-Api-Key: ${htmlEscaped(secret)}`,
      `{"token": "${escapeJsonString(secret)}"}`,
      `?key=${encodeURIComponent(secret)}`,
      secret,
    ];
    for (const text of rendered) {
      const masked = maskText(text, forms);
      expect(masked, text).toContain("********");
      expect(masked, text).not.toMatch(/k&|k&amp;|q&#x3D;|q==/);
    }
  });

  test("every occurrence of every secret is masked, however short, the longest first", () => {
    expect(maskText("ab abc ab", ["abc", "ab"])).toBe("******** ******** ********");
    expect(maskText("a-b", ["a"])).toBe("********-b");
    expect(maskText("nothing here", ["", "zz"])).toBe("nothing here");
  });
});
