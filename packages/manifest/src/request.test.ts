import { createHmac } from "node:crypto";
import { join } from "node:path";
import { compileTemplate, TemplateError } from "@hookwire/templates";
import { beforeAll, describe, expect, test } from "vitest";
import type { Integration } from "./integration";
import { loadIntegration } from "./loader";
import { endpointTemplates, renderRequest, requestReadsSecrets, signatureHeader } from "./request";

const loaded: Record<string, Integration> = {};
beforeAll(async () => {
  for (const name of ["valid", "oauth", "fixed-host", "standard-payload"]) {
    const { integration } = await loadIntegration(join(import.meta.dirname, "fixtures", name));
    if (integration === undefined) throw new Error(`the ${name} fixture did not load`);
    loaded[name] = integration;
  }
});
const fixture = (name: string) => loaded[name] as Integration;

/** The valid fixture with another URL template, compiled as the loader compiles it. */
function withUrl(url: string): Integration {
  const valid = fixture("valid");
  return {
    ...valid,
    endpoint: { ...valid.endpoint, url },
    request: endpointTemplates(compileTemplate(url, "test#url"), valid.request.headers, valid.secretKeys),
  };
}

describe("renderRequest", () => {
  test("renders the URL and headers with the form values at the top level", () => {
    const request = renderRequest(
      fixture("valid"),
      { url: "https://hooks.example.com/in", token: "abc" },
      { kind: "flag" },
    );
    expect(request).toEqual({
      method: "POST",
      url: "https://hooks.example.com/in",
      headers: [
        { name: "Content-Type", value: "application/json" },
        { name: "Authorization", value: "Bearer abc" },
      ],
    });
  });

  test("the entry is `context`, not escaped; {{x}} HTML-escapes as in the framework", () => {
    const integration = withUrl("{{{url}}}/{{pathEncode context.key}}?q={{q}}");
    const request = renderRequest(integration, { url: "https://x.test", q: "a&b" }, { key: "my flag" });
    expect(request.url).toBe("https://x.test/my%20flag?q=a&amp;b");
  });

  test("oauth credentials, or null", () => {
    const oauth = fixture("oauth");
    const request = renderRequest(oauth, {}, {}, { baseURI: "https://eu.example.com", accessToken: "at" });
    expect(request.url).toBe("https://eu.example.com/events");
    expect(request.headers[1]).toEqual({ name: "Authorization", value: "Bearer at" });
    expect(renderRequest(oauth, {}, {}).url).toBe("/events");
  });

  test("rendered once per hook's form values, the same each time, headers the caller's to add to", () => {
    const formValues = { url: "https://hooks.example.com/in", token: "abc" };
    const first = renderRequest(fixture("valid"), formValues, { kind: "flag" });
    first.headers.push({ name: "X-Signature", value: "s" });
    const again = renderRequest(fixture("valid"), formValues, { kind: "segment" });
    expect(again.headers.map((h) => h.name)).toEqual(["Content-Type", "Authorization"]);
    // Form values changed (the hook edited): a new object, rendered anew.
    expect(renderRequest(fixture("valid"), { ...formValues, token: "new" }, {}).headers[1]?.value).toBe(
      "Bearer new",
    );
  });

  test("a URL that reads the entry is rendered for each entry; one that reads oauth, for each token", () => {
    const integration = withUrl("{{{url}}}/{{context.key}}");
    const formValues = { url: "https://x.test" };
    expect(renderRequest(integration, formValues, { key: "a" }).url).toBe("https://x.test/a");
    expect(renderRequest(integration, formValues, { key: "b" }).url).toBe("https://x.test/b");
    const oauth = fixture("oauth");
    const noForm = {};
    const token = (accessToken: string) => ({ baseURI: "https://eu.example.com", accessToken });
    expect(renderRequest(oauth, noForm, {}, token("one")).headers[1]?.value).toBe("Bearer one");
    expect(renderRequest(oauth, noForm, {}, token("two")).headers[1]?.value).toBe("Bearer two");
    expect(renderRequest(oauth, noForm, {}).url).toBe("/events");
  });

  test("strict, a field the entry lacks is reported", () => {
    const integration = withUrl("{{url}}/{{context.project.key}}");
    expect(() => renderRequest(integration, { url: "u" }, { kind: "flag" }, null, { strict: true })).toThrow(
      TemplateError,
    );
    expect(renderRequest(integration, { url: "u" }, { kind: "flag" }).url).toBe("u/");
  });
});

describe("requestReadsSecrets", () => {
  test("true when the URL or a header reads a secret variable", () => {
    expect(requestReadsSecrets(fixture("valid"))).toBe(true);
    expect(requestReadsSecrets(fixture("fixed-host"))).toBe(true);
    expect(requestReadsSecrets(fixture("oauth"))).toBe(false);
  });
});

describe("signatureHeader", () => {
  test("the lowercase hex HMAC-SHA256 of the exact body, keyed by the secret variable", () => {
    const body = '{"kind":"flag","name":"é"}';
    const expected = createHmac("sha256", "s3cret").update(Buffer.from(body, "utf8")).digest("hex");
    expect(signatureHeader(fixture("valid"), { token: "s3cret" }, body)).toEqual({
      name: "X-Signature",
      value: expected,
    });
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  test("no header when the secret is empty or there is no signature", () => {
    expect(signatureHeader(fixture("valid"), { token: "" }, "x")).toBeUndefined();
    expect(signatureHeader(fixture("valid"), {}, "x")).toBeUndefined();
    expect(signatureHeader(fixture("standard-payload"), { token: "s" }, "x")).toEqual(
      expect.objectContaining({ name: "X-Signature" }),
    );
    expect(signatureHeader(fixture("oauth"), { token: "s" }, "x")).toEqual(
      expect.objectContaining({ name: "X-Signature" }),
    );
  });
});
