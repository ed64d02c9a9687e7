import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { catalogDirs, loadCatalog, loadIntegration } from "./loader";

const fixtures = join(import.meta.dirname, "fixtures");
const fixture = (name: string) => join(fixtures, name);
const HOOK = "/capabilities/auditLogEventsHook";

async function problemsOf(name: string) {
  const result = await loadIntegration(fixture(name));
  expect(result.integration, `${name} should not load`).toBeUndefined();
  return result.problems;
}

describe("a valid integration", () => {
  test("loads with what hookwire needs from its manifest", async () => {
    const { integration, problems } = await loadIntegration(fixture("valid"));
    expect(problems).toEqual([]);
    expect(integration).toMatchObject({
      key: "valid",
      name: "Fixture",
      endpoint: {
        url: "{{url}}",
        method: "POST",
        hmacSignature: { headerName: "X-Signature", hmacSecretFormVariableKey: "token" },
      },
      useStandardWebhookPayload: false,
      includeErrorResponseBody: false,
      urlHostIsFixed: false,
      requiresOAuth: false,
      deliverable: true,
      notices: [],
    });
    expect([...(integration?.secretKeys ?? [])]).toEqual(["token"]);
    expect(Object.keys(integration?.templates ?? {}).sort()).toEqual(["default", "flag"]);
    expect(integration?.templates.flag?.isJson).toBe(true);
    expect(integration?.templates.default?.isJson).toBe(false);
    expect(integration?.defaultPolicy).toEqual([
      { effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] },
    ]);
  });

  test("with the standard payload and no templates", async () => {
    const { integration, problems } = await loadIntegration(fixture("standard-payload"));
    expect(problems).toEqual([]);
    expect(integration?.useStandardWebhookPayload).toBe(true);
    expect(integration?.templates).toEqual({});
  });
});

describe("each manifest rule, with the file and JSON pointer", () => {
  test.each([
    ["missing-endpoint-url", "MANIFEST_ERR_SCHEMA", `${HOOK}/endpoint/url`],
    ["unknown-variable-type", "MANIFEST_ERR_SCHEMA", "/formVariables/2/type"],
    ["unknown-hook-field", "MANIFEST_ERR_SCHEMA", `${HOOK}/template`],
    ["bad-method", "MANIFEST_ERR_SCHEMA", `${HOOK}/endpoint/method`],
    ["bad-header-name", "MANIFEST_ERR_SCHEMA", `${HOOK}/endpoint/headers/0/name`],
    ["no-audit-log-hook", "MANIFEST_ERR_NO_AUDIT_LOG_HOOK", "/capabilities"],
    ["secret-not-string", "MANIFEST_ERR_SECRET_NOT_STRING", "/formVariables/3/isSecret"],
    ["default-not-optional", "MANIFEST_ERR_DEFAULT_NOT_OPTIONAL", "/formVariables/2/defaultValue"],
    ["default-wrong-type", "MANIFEST_ERR_DEFAULT_TYPE", "/formVariables/3/defaultValue"],
    ["enum-default-not-allowed", "MANIFEST_ERR_DEFAULT_TYPE", "/formVariables/2/defaultValue"],
    ["enum-without-values", "MANIFEST_ERR_ENUM_VALUES", "/formVariables/2/allowedValues"],
    ["dynamic-enum-without-options", "MANIFEST_ERR_DYNAMIC_OPTIONS", "/formVariables/2/dynamicOptions"],
    ["duplicate-variable", "MANIFEST_ERR_DUPLICATE_VARIABLE", "/formVariables/4/key"],
    [
      "hmac-variable-missing",
      "MANIFEST_ERR_HMAC_VARIABLE_MISSING",
      `${HOOK}/endpoint/hmacSignature/hmacSecretFormVariableKey`,
    ],
    [
      "hmac-variable-not-secret",
      "MANIFEST_ERR_HMAC_VARIABLE_NOT_SECRET",
      `${HOOK}/endpoint/hmacSignature/hmacSecretFormVariableKey`,
    ],
    ["templates-with-standard-payload", "MANIFEST_ERR_TEMPLATES_WITH_STANDARD_PAYLOAD", `${HOOK}/templates`],
    ["template-missing", "MANIFEST_ERR_TEMPLATE_MISSING", `${HOOK}/templates/default`],
    ["template-outside-folder", "MANIFEST_ERR_TEMPLATE_PATH", `${HOOK}/templates/project`],
    ["url-unknown-variable", "MANIFEST_ERR_UNKNOWN_VARIABLE", `${HOOK}/endpoint/url`],
    ["url-bad-template", "MANIFEST_ERR_ENDPOINT_TEMPLATE", `${HOOK}/endpoint/url`],
    ["bad-default-policy", "MANIFEST_ERR_POLICY", `${HOOK}/defaultPolicy/0/notResources`],
    ["no-endpoint", "MANIFEST_ERR_NO_ENDPOINT", `${HOOK}/endpoint`],
  ])("%s: %s at %s", async (name, code, pointer) => {
    const problems = await problemsOf(name);
    expect(problems).toContainEqual(
      expect.objectContaining({ file: join(fixture(name), "manifest.json"), code, pointer }),
    );
    for (const p of problems) expect(p.message.length).toBeGreaterThan(10);
  });

  test("the messages say what is wrong", async () => {
    const [secret] = await problemsOf("secret-not-string");
    expect(secret?.message).toBe('only a string variable can be a secret; "quiet" is a boolean');
    const [unknown] = await problemsOf("url-unknown-variable");
    expect(unknown?.message).toContain('"{{team}}" reads "team", which is not a form variable');
    const [method] = await problemsOf("bad-method");
    expect(method?.message).toBe('must be one of "POST", "PUT", "PATCH", "GET", "DELETE"');
  });

  test.each([
    ["template-syntax-error", "templates/flag.json.hbs", 3],
    ["template-partial", "templates/default.txt.hbs", 2],
  ])("%s: a template that does not compile is named with its line", async (name, template, line) => {
    const problems = await problemsOf(name);
    expect(problems).toEqual([
      expect.objectContaining({
        file: join(fixture(name), template),
        line,
        code: "MANIFEST_ERR_TEMPLATE_COMPILE",
      }),
    ]);
  });

  test("a manifest that is not JSON is reported with its line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hookwire-manifest-"));
    try {
      await writeFile(join(dir, "manifest.json"), '{\n  "name": "Broken",\n  "capabilities": {},\n}\n');
      const { integration, problems } = await loadIntegration(dir);
      expect(integration).toBeUndefined();
      expect(problems).toEqual([expect.objectContaining({ code: "MANIFEST_ERR_JSON", line: 4 })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a folder without a manifest", async () => {
    const { problems } = await loadIntegration(join(fixtures, "no-such-integration"));
    expect(problems).toEqual([expect.objectContaining({ code: "MANIFEST_ERR_READ" })]);
    expect(problems[0]?.message).toContain("there is no manifest.json");
  });
});

describe("what loads with a notice", () => {
  test("deliveryMethod custom is not deliverable", async () => {
    const { integration, problems } = await loadIntegration(fixture("custom-delivery"));
    expect(problems).toEqual([]);
    expect(integration?.deliverable).toBe(false);
    expect(integration?.notices).toContainEqual(
      expect.objectContaining({ code: "MANIFEST_NOTE_CUSTOM_DELIVERY", pointer: `${HOOK}/deliveryMethod` }),
    );
  });

  test("other capabilities and unknown fields are ignored", async () => {
    const { integration } = await loadIntegration(fixture("ignored-capability"));
    expect(integration?.notices.map((n) => [n.code, n.pointer])).toEqual([
      ["MANIFEST_NOTE_IGNORED_FIELD", "/flavour"],
      ["MANIFEST_NOTE_IGNORED_CAPABILITY", "/capabilities/reservedCustomProperties"],
    ]);
  });

  test("a helper the framework lacks", async () => {
    const { integration } = await loadIntegration(fixture("template-unknown-helper"));
    expect(integration?.notices).toEqual([
      expect.objectContaining({
        code: "MANIFEST_NOTE_UNKNOWN_HELPER",
        file: join(fixture("template-unknown-helper"), "templates/default.txt.hbs"),
        line: 2,
      }),
    ]);
  });

  test("the endpoint's templates are compiled once, when it loads, with what they read", async () => {
    const { integration } = await loadIntegration(fixture("valid"));
    expect(integration?.request.url.render({ url: "https://example.com/in" })).toBe("https://example.com/in");
    expect(integration?.request.headers.map((h) => h.name)).toEqual(["Content-Type", "Authorization"]);
    // `Bearer {{token}}`: the token is a secret; nothing reads the entry or oauth.
    expect(integration?.request.reads).toEqual({ entry: false, secrets: true, oauth: false });
    const { integration: oauth } = await loadIntegration(fixture("oauth"));
    expect(oauth?.request.reads.oauth).toBe(true);
  });

  test("OAuth", async () => {
    const { integration } = await loadIntegration(fixture("oauth"));
    expect(integration?.requiresOAuth).toBe(true);
    expect(integration?.notices.map((n) => n.code)).toEqual(["MANIFEST_NOTE_OAUTH"]);
  });
});

describe("urlHostIsFixed", () => {
  test.each([
    ["valid", false],
    ["fixed-host", true],
    ["enum-host", true],
    ["oauth", false],
  ])("%s: %s", async (name, fixed) => {
    const { integration } = await loadIntegration(fixture(name));
    expect(integration?.urlHostIsFixed).toBe(fixed);
  });
});

describe("loadCatalog", () => {
  test("loads the good integrations and reports the broken ones", async () => {
    const catalog = await loadCatalog([fixtures]);
    expect(catalog.get("valid")?.name).toBe("Fixture");
    expect(catalog.get("secret-not-string")).toBeUndefined();
    expect(catalog.list().map((i) => i.key)).toEqual([
      "custom-delivery",
      "enum-host",
      "fixed-host",
      "ignored-capability",
      "oauth",
      "standard-payload",
      "template-unknown-helper",
      "valid",
    ]);
    const broken = new Set(catalog.problems.map((p) => p.file.split("/").at(-2)));
    expect(broken).toContain("no-audit-log-hook");
    expect(broken).toContain("templates");
    expect(catalog.notices.some((n) => n.code === "MANIFEST_NOTE_CUSTOM_DELIVERY")).toBe(true);
  });

  test("a later folder replaces an integration of the same key, with a notice", async () => {
    const catalog = await loadCatalog([fixtures, fixtures]);
    expect(catalog.notices.filter((n) => n.code === "MANIFEST_NOTE_REPLACED")).toHaveLength(8);
    expect(catalog.list()).toHaveLength(8);
  });

  test("a folder that cannot be read is a problem, the others still load", async () => {
    const catalog = await loadCatalog([join(fixtures, "nowhere"), fixtures]);
    expect(catalog.problems[0]).toMatchObject({ code: "MANIFEST_ERR_CATALOG_DIR" });
    expect(catalog.get("valid")).toBeDefined();
  });

  describe("with a folder that is not an integration", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "hookwire-catalog-"));
      await writeFile(join(dir, "README.md"), "not a folder");
      const { mkdir } = await import("node:fs/promises");
      await mkdir(join(dir, "assets"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test("it is skipped with a notice", async () => {
      const catalog = await loadCatalog([dir]);
      expect(catalog.list()).toEqual([]);
      expect(catalog.problems).toEqual([]);
      expect(catalog.notices).toEqual([
        expect.objectContaining({ code: "MANIFEST_NOTE_NOT_AN_INTEGRATION" }),
      ]);
    });
  });
});

describe("catalogDirs", () => {
  test("the project's integrations, then HOOKWIRE_INTEGRATIONS_DIR in order", () => {
    expect(catalogDirs("/srv/hookwire", {})).toEqual(["/srv/hookwire/integrations"]);
    expect(catalogDirs("/srv/hookwire", { HOOKWIRE_INTEGRATIONS_DIR: "/opt/a::extra" })).toEqual([
      "/srv/hookwire/integrations",
      "/opt/a",
      "/srv/hookwire/extra",
    ]);
  });
});
