import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../../test/support/corpus";
import { runValidate } from "./validate";

const repo = join(import.meta.dirname, "..", "..", "..", "..");

async function validate(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => (out += chunk));
  stderr.on("data", (chunk) => (err += chunk));
  const code = await runValidate(argv, { stdin: new PassThrough(), stdout, stderr });
  return { code, out, err };
}

let work: string;
async function write(path: string, content: string | object) {
  const full = join(work, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, typeof content === "string" ? content : JSON.stringify(content, null, 2));
}

const manifest = (overrides: { formVariables?: object[]; templates?: object; url?: string } = {}) => ({
  name: "Test",
  formVariables: overrides.formVariables ?? [{ key: "url", name: "URL", type: "uri", description: "Where." }],
  capabilities: {
    auditLogEventsHook: {
      endpoint: { url: overrides.url ?? "{{url}}", method: "POST", headers: [] },
      templates: overrides.templates ?? { default: "templates/default.json.hbs" },
      defaultPolicy: [{ effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] }],
    },
  },
});

const entry = {
  _id: "65a0c0ffee0000000000b001",
  timestamp: { milliseconds: 1706000000000, seconds: 1706000000, rfc3339: "2024-01-23T08:53:20Z" },
  kind: "flag",
  key: "checkout",
  name: "Checkout",
  verbKind: "updateOn",
  title: { plainText: "Ann turned on the flag Checkout" },
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hookwire-validate-"));
  await write("good/manifest.json", manifest());
  await write("good/templates/default.json.hbs", '{"title": "{{{title.plainText}}}", "key": "{{key}}"}\n');
  await write(
    "broken/manifest.json",
    manifest({ formVariables: [{ key: "url", name: "URL", type: "uri", description: "x", isSecret: true }] }),
  );
  await write("broken/templates/default.json.hbs", '{\n  "a": "{{a}",\n}\n');
  await write("missing/manifest.json", manifest());
  await write(
    "missing/templates/default.json.hbs",
    '{\n  "env": "{{project.environment.key}}",\n  "k": "{{key}}"\n}\n',
  );
  await write("not-json/manifest.json", manifest());
  await write("not-json/templates/default.json.hbs", '{\n  "k": "{{key}}",\n}\n');
  await write(
    "blank-validation/manifest.json",
    manifest({ templates: { default: "templates/default.json.hbs", validation: "templates/test.txt.hbs" } }),
  );
  await write("blank-validation/templates/default.json.hbs", '{"k": "{{key}}"}');
  await write("blank-validation/templates/test.txt.hbs", "{{#if comment}}{{comment}}{{/if}}\n");
  await write("contexts/flag.json", entry);
  await write("contexts/nested/project.json", {
    ...entry,
    kind: "project",
    key: undefined,
    _id: "65a0c0ffee0000000000b002",
  });
  // No template serves a member entry here (the default is not rendered with one).
  await write("contexts/nested/member.json", {
    ...entry,
    kind: "member",
    key: undefined,
    _id: "65a0c0ffee0000000000b003",
  });
  // Each template reads a field only the contexts of the kinds it serves have: paired wrongly,
  // a strict render finds it missing.
  await write(
    "kinds/manifest.json",
    manifest({
      templates: {
        flag: "templates/flag.json.hbs",
        default: "templates/default.json.hbs",
        validation: "templates/validation.json.hbs",
      },
    }),
  );
  await write("kinds/templates/flag.json.hbs", '{"f": "{{flagOnly}}"}');
  await write("kinds/templates/default.json.hbs", '{"p": "{{notFlag}}"}');
  await write("kinds/templates/validation.json.hbs", '{"e": "{{environmentOnly}}"}');
  await write("kind-contexts/flag.json", { ...entry, flagOnly: "f" });
  await write("kind-contexts/project.json", {
    ...entry,
    _id: "65a0c0ffee0000000000b011",
    kind: "project",
    notFlag: "p",
  });
  await write("kind-contexts/environment.json", {
    ...entry,
    _id: "65a0c0ffee0000000000b012",
    kind: "environment",
    notFlag: "e",
    environmentOnly: "e",
  });
  await write("kind-contexts/member.json", { ...entry, _id: "65a0c0ffee0000000000b013", kind: "member" });
  await write("kind-contexts/metric.json", { ...entry, _id: "65a0c0ffee0000000000b014", kind: "metric" });
  await write("bad-contexts/broken.json", "{ not json");
  await write("helper/manifest.json", manifest());
  await write("helper/templates/default.json.hbs", '{"k": "{{shout key}}"}\n');
  await mkdir(join(work, "empty"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

test("the framework's corpus is there to validate (required in CI)", (context) => {
  expectCorpus(context, "hookwire validate on the framework's corpus");
});

describe("hookwire validate", () => {
  test("the project's own catalog is valid", async () => {
    const { code, out } = await validate(join(repo, "integrations"));
    expect(out).toMatch(/ok +\S*integrations\/slack/);
    expect(out).toMatch(/ok +\S*integrations\/discord/);
    expect(out).toMatch(/\d+ integrations: (\d+) valid, 0 invalid; 0 problems/);
    expect(code).toBe(0);
  });

  test("lists every problem with its file and pointer or line, and exits 1", async () => {
    const { code, out } = await validate(join(work, "good"), join(work, "broken"));
    expect(code).toBe(1);
    expect(out).toMatch(/ok +\S*good/);
    expect(out).toMatch(/invalid +\S*broken: 2 problems/);
    expect(out).toContain(
      "broken/manifest.json#/formVariables/0/isSecret: only a string variable can be a secret",
    );
    expect(out).toMatch(/broken\/templates\/default\.json\.hbs:2: Parse error on line 2/);
    expect(out).toContain("[MANIFEST_ERR_SECRET_NOT_STRING]");
    expect(out).toContain("2 integrations: 1 valid, 1 invalid; 2 problems");
  });

  test("a catalog folder validates each integration in it", async () => {
    const { code, out } = await validate(work);
    expect(code).toBe(1);
    expect(out).toContain("7 integrations: 6 valid, 1 invalid");
  });

  test("with contexts, renders strictly and names the missing fields with file, line and context", async () => {
    const { code, out } = await validate(join(work, "missing"), "--contexts", join(work, "contexts"));
    expect(code).toBe(1);
    expect(out).toMatch(
      /missing\/templates\/default\.json\.hbs:2:13: missing field "project\.environment\.key" \("project" is not there\) \(contexts \S*contexts\/flag\.json, \S*contexts\/nested\/project\.json\) \[TEMPLATES_ERR_MISSING_FIELD\]/,
    );
    expect(out).toMatch(
      /missing\/templates\/default\.json\.hbs:3:11: missing field "key" \(context \S*project\.json\)/,
    );
    expect(out).toContain("2 problems (rendered default × 2; 1 context left out, no template of its kind)");
  });

  test("templates are paired with contexts by kind, as the framework pairs them, and the line says how", async () => {
    const { code, out } = await validate(join(work, "kinds"), "--contexts", join(work, "kind-contexts"));
    expect(out).not.toContain("missing field");
    const line = out.split("\n").find((l) => l.includes("kinds")) ?? "";
    expect(line).toMatch(/^ok /);
    expect(line).toContain("flag × 1");
    expect(line).toContain("default × 2");
    expect(line).toContain("validation × 1");
    expect(line).toContain("2 contexts left out, no template of their kind");
    expect(code).toBe(0);
  });

  test("a template that is fine with the contexts is valid", async () => {
    const { code, out } = await validate(
      join(work, "good"),
      "--contexts",
      join(work, "contexts", "flag.json"),
    );
    expect(out).toContain("(rendered default × 1)");
    expect(code).toBe(0);
  });

  test("a JSON template that renders invalid JSON is a problem, with the position", async () => {
    const { code, out } = await validate(
      join(work, "not-json"),
      "--contexts",
      join(work, "contexts", "flag.json"),
    );
    expect(code).toBe(1);
    expect(out).toMatch(/rendered invalid JSON at line 3, column 1 \(position \d+\)/);
    expect(out).toContain("[TEMPLATES_ERR_INVALID_JSON]");
  });

  test("a validation template that renders nothing is a problem", async () => {
    const { code, out } = await validate(
      join(work, "blank-validation"),
      "--contexts",
      join(work, "contexts"),
    );
    expect(code).toBe(1);
    expect(out).toContain("the validation template renders nothing");
  });

  test("contexts that are not entries are problems", async () => {
    const { code, out } = await validate(join(work, "good"), "--contexts", join(work, "bad-contexts"));
    expect(code).toBe(1);
    expect(out).toMatch(/broken\.json: is not JSON/);
  });

  test("--framework: the project's own catalog would pass LaunchDarkly's review", async () => {
    const { code, out } = await validate(join(repo, "integrations"), "--framework");
    expect(out).toMatch(/(\d+) integrations: \1 valid, 0 invalid; 0 problems/);
    expect(code).toBe(0);
  });

  test("--framework: what the review rejects is a problem, with the manifest's file and field", async () => {
    // "good" loads and renders, but has no version, icons, description or category.
    const plain = await validate(join(work, "good"));
    expect(plain.code).toBe(0);
    const { code, out } = await validate(join(work, "good"), "--framework");
    expect(code).toBe(1);
    expect(out).toMatch(/good\/manifest\.json#\/version: is required \[MANIFEST_ERR_FRAMEWORK\]/);
    expect(out).toMatch(/good\/manifest\.json#\/icons: is required/);
    expect(out).toMatch(/good\/manifest\.json#\/categories: is required/);
  });

  test("an unknown helper is a notice, and with --framework a problem", async () => {
    const plain = await validate(join(work, "helper"));
    expect(plain.err).toMatch(/notice: .*shout/);
    expect(plain.code).toBe(0);
    const strict = await validate(join(work, "helper"), "--framework");
    expect(strict.out).toMatch(
      /helper\/templates\/default\.json\.hbs.*shout.*\[MANIFEST_NOTE_UNKNOWN_HELPER\]/,
    );
    expect(strict.code).toBe(1);
  });

  test("a folder without integrations is a problem", async () => {
    const { code, out } = await validate(join(work, "empty"));
    expect(code).toBe(1);
    expect(out).toContain("holds no manifest.json");
  });

  test("usage", async () => {
    expect((await validate()).code).toBe(2);
    expect((await validate("--nope", "x")).code).toBe(2);
    const help = await validate("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: hookwire validate");
  });

  test.runIf(corpusDir !== undefined)(
    "every integration of the framework's corpus is valid as it is",
    async () => {
      const { code, out, err } = await validate(join(corpusDir ?? "", "integrations"));
      expect(out).toMatch(/\d+ integrations: \d+ valid, 0 invalid; 0 problems/);
      expect(err).toContain("notice: ");
      expect(code).toBe(0);
    },
  );

  test.runIf(corpusDir !== undefined)(
    "every integration of the framework's corpus renders its templates against the framework's sample contexts, paired by kind",
    async () => {
      const dir = corpusDir ?? "";
      const { code, out } = await validate(
        join(dir, "integrations"),
        "--contexts",
        join(dir, "sample-context"),
      );
      expect(out).toMatch(/(\d+) integrations: \1 valid, 0 invalid; 0 problems/);
      // Each line says what it rendered: datadog's own templates with their kinds, default with flags.
      expect(out).toMatch(/ok +\S*datadog \(rendered [^)]*environment × 3[^)]*default × 6[^)]*member × 1/);
      expect(code).toBe(0);
    },
  );
});
