import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { afterAll, describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { checkFrameworkRules } from "./framework-rules";

// hookwire validate --framework against the framework's own schema (test data in ../shared):
// twenty manifests broken one way each, from a real one, are rejected by both, and hookwire names
// the field; the real integrations pass the schema part of both.

test("the framework's corpus is there to check --framework against (required in CI)", (context) => {
  expectCorpus(context, "hookwire validate --framework against the framework's schema");
});

/** The framework's schema, as its CI compiles it: base.json with its definitions and capabilities. */
function frameworkSchema(dir: string): ValidateFunction {
  // Its nested `$id`s are labels (`#/properties/...`) that newer ajv reads as ids and finds twice.
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>)
        .filter(([key]) => key !== "$id")
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  const read = (path: string) => strip(JSON.parse(readFileSync(join(dir, path), "utf8"))) as object;
  const root = "https://launchdarkly.com/schemas/v1.0/";
  const ajv = new Ajv({ allErrors: true, strict: false });
  // Its one format, as the ajv of its CI checks it ("fast" email: local@domain.tld).
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  ajv.addSchema({ ...read("definitions.json"), $id: `${root}schemas/definitions.json` });
  ajv.addSchema({
    ...read("capabilities/parser/parser.json"),
    $id: `${root}schemas/capabilities/parser/parser.json`,
  });
  for (const file of readdirSync(join(dir, "capabilities")).filter((f) => f.endsWith(".json")))
    ajv.addSchema({ ...read(`capabilities/${file}`), $id: `${root}schemas/capabilities/${file}` });
  return ajv.compile({ ...read("base.json"), $id: `${root}manifest.schema.json` });
}

type Manifest = Record<string, any>;

/** [what is broken, how, the field hookwire must name]. */
const BROKEN: [string, (m: Manifest) => void, string][] = [
  ["no version", (m) => delete m.version, "/version"],
  ['version "1.0"', (m) => (m.version = "1.0"), "/version"],
  ["a version with a leading zero", (m) => (m.version = "01.0.0"), "/version"],
  ["no icons", (m) => delete m.icons, "/icons"],
  ["a PNG icon", (m) => (m.icons.square = "assets/square.png"), "/icons/square"],
  ["an unknown category", (m) => (m.categories = ["teleportation"]), "/categories/0"],
  ["no category", (m) => (m.categories = []), "/categories"],
  ["four categories", (m) => (m.categories = ["ai", "data", "import", "migration"]), "/categories"],
  ["a bad supportEmail", (m) => (m.supportEmail = "support-at-example.com"), "/supportEmail"],
  [
    "a form variable without description",
    (m) => delete m.formVariables[0].description,
    "/formVariables/0/description",
  ],
  ["an unknown top-level field", (m) => (m.homepage = "https://example.com"), "/homepage"],
  ["an unknown capability", (m) => (m.capabilities.teleport = {}), "/capabilities/teleport"],
  ["a link that is not http(s)", (m) => (m.links.site = "ftp://example.com"), "/links/site"],
  ["no privacy policy link", (m) => delete m.links.privacyPolicy, "/links/privacyPolicy"],
  ["an overview too short", (m) => (m.overview = "Short."), "/overview"],
  ["a description too short", (m) => (m.description = "Too short."), "/description"],
  ["a name too short", (m) => (m.name = "DD"), "/name"],
  [
    "a form variable key over 20 characters",
    (m) => (m.formVariables[0].key = "aKeyThatIsFarTooLong1"),
    "/formVariables/0/key",
  ],
  ["an unknown form variable type", (m) => (m.formVariables[0].type = "number"), "/formVariables/0/type"],
  [
    "an unknown template kind",
    (m) => (m.capabilities.auditLogEventsHook.templates.segment = "templates/segment.json.hbs"),
    "/capabilities/auditLogEventsHook/templates/segment",
  ],
  ["an unknown other capability", (m) => (m.otherCapabilities = ["teleport"]), "/otherCapabilities/0"],
  ["an unknown form variable field", (m) => (m.formVariables[0].colour = "red"), "/formVariables/0/colour"],
];

const work = mkdtempSync(join(tmpdir(), "hookwire-framework-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `manifest` into a folder of its own with the icons it names, so only the fault counts. */
function place(name: string, manifest: Manifest): string {
  const folder = join(work, name.replace(/\W+/g, "-"));
  mkdirSync(join(folder, "assets"), { recursive: true });
  for (const path of Object.values(manifest.icons ?? {}))
    if (typeof path === "string") writeFileSync(join(folder, path), "<svg/>");
  const file = join(folder, "manifest.json");
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe.runIf(corpusDir !== undefined)("hookwire validate --framework", () => {
  const dir = corpusDir ?? "";
  // Read once the tests run: without the corpus, vitest still collects this block (to skip it).
  let compiled: ValidateFunction | undefined;
  const schema = (manifest: unknown) => {
    compiled ??= frameworkSchema(join(dir, "schemas"));
    return compiled(manifest);
  };
  const datadog = (): Manifest =>
    JSON.parse(readFileSync(join(dir, "integrations", "datadog", "manifest.json"), "utf8"));

  test("passes a real integration, as the framework's schema does", () => {
    const manifest = datadog();
    expect(schema(manifest)).toBe(true);
    expect(checkFrameworkRules(manifest, place("datadog", manifest))).toEqual([]);
  });

  test(`has ${BROKEN.length} broken manifests to agree on`, () => {
    expect(BROKEN.length).toBeGreaterThanOrEqual(20);
  });

  test.each(BROKEN)(
    "%s: the framework's schema rejects it, and hookwire names the file and the field",
    (name, breakIt, pointer) => {
      const manifest = datadog();
      breakIt(manifest);
      expect(schema(manifest), "the framework's schema").toBe(false);
      const file = place(name, manifest);
      const problems = checkFrameworkRules(manifest, file);
      expect(problems.map((p) => p.pointer)).toContain(pointer);
      expect(problems.every((p) => p.file === file && p.code === "MANIFEST_ERR_FRAMEWORK")).toBe(true);
    },
  );

  test("the schema part passes every real integration of the corpus, as the framework's schema does", () => {
    for (const name of readdirSync(join(dir, "integrations"))) {
      const manifest = JSON.parse(readFileSync(join(dir, "integrations", name, "manifest.json"), "utf8"));
      expect(schema(manifest), name).toBe(true);
      // The corpus leaves the icon files out: only their absence may be said.
      const said = checkFrameworkRules(manifest, join(dir, "integrations", name, "manifest.json"));
      expect(
        said.filter((p) => !p.message.includes("not there beside the manifest")),
        name,
      ).toEqual([]);
    }
  });
});

describe("the framework's CI rules beyond its schema", () => {
  const valid: Manifest = {
    name: "Example",
    version: "1.0.0",
    overview: "Send LaunchDarkly changes to Example.",
    description: "Example receives every change made in LaunchDarkly, as it happens, for its users.",
    author: "Example Inc",
    supportEmail: "support@example.com",
    links: { site: "https://example.com", privacyPolicy: "https://example.com/privacy" },
    categories: ["monitoring"],
    icons: { square: "assets/square.svg", horizontal: "assets/horizontal.svg" },
    capabilities: {},
  };

  test("an overview without a final period is rejected, at /overview", () => {
    const manifest = { ...valid, overview: "Send LaunchDarkly changes to Example" };
    expect(checkFrameworkRules(manifest, place("period", manifest)).map((p) => p.pointer)).toEqual([
      "/overview",
    ]);
  });

  test("an icon that is not beside the manifest is rejected, naming the icon", () => {
    const file = place("icons", valid);
    rmSync(join(file, "..", "assets", "horizontal.svg"));
    const problems = checkFrameworkRules(valid, file);
    expect(problems.map((p) => [p.pointer, p.message])).toEqual([
      ["/icons/horizontal", "names assets/horizontal.svg, which is not there beside the manifest"],
    ]);
  });

  test("a valid manifest with its icons passes", () => {
    expect(checkFrameworkRules(valid, place("valid", valid))).toEqual([]);
  });
});
