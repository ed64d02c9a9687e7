import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runPreview } from "./preview";

const repo = join(import.meta.dirname, "..", "..", "..", "..");
const slack = join(repo, "integrations", "slack");
const generic = join(repo, "integrations", "generic-webhook");

async function preview(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => (out += chunk));
  stderr.on("data", (chunk) => (err += chunk));
  const code = await runPreview(argv, { stdin: new PassThrough(), stdout, stderr });
  return { code, out, err };
}

let work: string;
let flagFile: string;
async function write(path: string, content: string | object) {
  const full = join(work, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return full;
}

const flag = {
  _id: "65a0c0ffee0000000000c001",
  _links: {
    site: { href: "https://app.launchdarkly.com/shop/production/features/checkout", type: "text/html" },
  },
  timestamp: {
    milliseconds: 1706000000000,
    seconds: 1706000000,
    rfc3339: "2024-01-23T08:53:20Z",
    simple: "2024-01-23 08:53:20",
  },
  kind: "flag",
  key: "checkout",
  name: "Checkout",
  titleVerb: "turned on the flag",
  verbKind: "updateOn",
  title: { plainText: "Zoë O'Brien turned on the flag Checkout" },
  details: { plainText: "Turned the flag on" },
  project: { key: "shop", name: "Shop", environment: { key: "production", name: "Production" } },
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hookwire-preview-"));
  flagFile = await write("flag.json", flag);
  const manifest = (template: string) => ({
    name: "Broken body",
    formVariables: [],
    capabilities: {
      auditLogEventsHook: {
        endpoint: { url: "https://example.com/in", method: "PUT", headers: [] },
        templates: { default: template },
      },
    },
  });
  await write("invalid-json/manifest.json", manifest("templates/body.json.hbs"));
  await write("invalid-json/templates/body.json.hbs", '{\n  "key": "{{key}}",\n}\n');
  await write("empty-body/manifest.json", manifest("templates/body.txt.hbs"));
  await write("empty-body/templates/body.txt.hbs", "{{#equal kind 'project'}}projects only{{/equal}}\n");
  await write("broken/manifest.json", {
    name: "Broken",
    capabilities: { auditLogEventsHook: { endpoint: { method: "POST" } } },
  });
  await write("not-an-entry.json", ["not", "an", "entry"]);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("hookwire preview", () => {
  test("prints the request that would be sent", async () => {
    const { code, out, err } = await preview(
      slack,
      "--context",
      flagFile,
      "--form",
      "webhookUrl=https://hooks.slack.com/services/T/B/x",
    );
    expect(code).toBe(0);
    expect(err).toBe("");
    const [head, body] = out.split("\n\n", 2) as [string, string];
    expect(head).toBe(
      "POST https://hooks.slack.com/services/T/B/x\nContent-Type: application/json; charset=utf-8",
    );
    expect(JSON.parse(body).text).toBe("LaunchDarkly flag change: turned on the flag");
  });

  test("--json prints one object with the exact body and the template used", async () => {
    const { code, out } = await preview(
      slack,
      "--context",
      flagFile,
      "--form",
      "webhookUrl=https://hooks.slack.com/x",
      "--json",
    );
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(Object.keys(result)).toEqual(["method", "url", "headers", "body", "template", "warnings"]);
    expect(result).toMatchObject({
      method: "POST",
      url: "https://hooks.slack.com/x",
      headers: [{ name: "Content-Type", value: "application/json; charset=utf-8" }],
      template: "default",
      warnings: [],
    });
    expect(typeof result.body).toBe("string");
    expect(JSON.parse(result.body).blocks[1].text.text).toBe("Turned the flag on");
  });

  test("a boolean form value is coerced: false is the boolean false", async () => {
    const { out } = await preview(
      slack,
      "--context",
      flagFile,
      "--form",
      "webhookUrl=u",
      "--form",
      "showDetails=false",
      "--json",
    );
    expect(JSON.parse(out).body).not.toContain("Turned the flag on");
  });

  test("missing form values get the framework preview's placeholders, with a warning", async () => {
    const { code, out } = await preview(slack, "--context", flagFile, "--json");
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.url).toBe("$WEBHOOKURL");
    expect(result.warnings).toEqual(['no value for "webhookUrl": the placeholder "$WEBHOOKURL" is used']);
  });

  test("--template renders another template", async () => {
    const { out } = await preview(
      slack,
      "--context",
      flagFile,
      "--form",
      "webhookUrl=u",
      "--template",
      "validation",
      "--json",
    );
    const result = JSON.parse(out);
    expect(result.template).toBe("validation");
    expect(result.body).toContain("hookwire is connected");
  });

  test("--curl prints a command that sends the same request, quoted for the shell", async () => {
    const { code, out } = await preview(
      slack,
      "--context",
      flagFile,
      "--form",
      "webhookUrl=https://hooks.slack.com/x",
      "--curl",
    );
    expect(code).toBe(0);
    expect(
      out.startsWith(
        "curl -X POST 'https://hooks.slack.com/x' \\\n  -H 'Content-Type: application/json; charset=utf-8' \\\n  --data-binary '{",
      ),
    ).toBe(true);
    expect(out).toContain("Zoë O'\\''Brien");
  });

  test("the standard payload is signed when the secret is given", async () => {
    const { out } = await preview(
      generic,
      "--context",
      flagFile,
      "--form",
      "url=https://example.com/in",
      "--form",
      "secret=s3cret",
      "--json",
    );
    const result = JSON.parse(out);
    expect(result.template).toBe("standard");
    const signature = result.headers.find((h: { name: string }) => h.name === "X-LD-Signature");
    expect(signature.value).toBe(createHmac("sha256", "s3cret").update(result.body).digest("hex"));
    expect(JSON.parse(result.body)).toMatchObject({ kind: "flag", key: "checkout" });
  });

  test("without the secret there is no signature, and a warning says so", async () => {
    const { out } = await preview(
      generic,
      "--context",
      flagFile,
      "--form",
      "url=https://example.com/in",
      "--json",
    );
    const result = JSON.parse(out);
    expect(result.headers.some((h: { name: string }) => h.name === "X-LD-Signature")).toBe(false);
    expect(result.warnings).toContain('no X-LD-Signature signature: give a value for the secret "secret"');
  });

  test("a body that is not valid JSON is still printed, with a warning", async () => {
    const { code, out } = await preview(join(work, "invalid-json"), "--context", flagFile, "--json");
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.method).toBe("PUT");
    expect(result.body).toBe('{\n  "key": "checkout",\n}\n');
    expect(result.warnings[0]).toMatch(
      /^the body is not valid JSON \(line 3, column 1, position 23: expected a double-quoted property name\)/,
    );
  });

  test("an empty body is null: nothing would be sent", async () => {
    const { out } = await preview(join(work, "empty-body"), "--context", flagFile, "--json");
    const result = JSON.parse(out);
    expect(result.body).toBeNull();
    expect(result.warnings).toContain("the body is empty: nothing would be sent for this entry");
    const plain = await preview(join(work, "empty-body"), "--context", flagFile);
    expect(plain.out).toContain("(no body: nothing would be sent)");
  });

  test("a broken integration or entry exits 1 with the problems", async () => {
    const broken = await preview(join(work, "broken"), "--context", flagFile);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain("manifest.json#/capabilities/auditLogEventsHook/endpoint/url: is required");
    const notEntry = await preview(slack, "--context", join(work, "not-an-entry.json"));
    expect(notEntry.code).toBe(1);
    const missing = await preview(slack, "--context", join(work, "nowhere.json"));
    expect(missing.code).toBe(1);
  });

  test("usage errors exit 2", async () => {
    expect((await preview(slack)).code).toBe(2);
    expect((await preview("--context", flagFile)).code).toBe(2);
    expect((await preview(slack, "--context", flagFile, "--json", "--curl")).code).toBe(2);
    expect((await preview(slack, "--context", flagFile, "--template", "nope")).code).toBe(2);
    const unknown = await preview(slack, "--context", flagFile, "--form", "colour=red");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain(
      '"colour" is not a form variable of slack (it has: webhookUrl, showDetails)',
    );
    const notBoolean = await preview(slack, "--context", flagFile, "--form", "showDetails=maybe");
    expect(notBoolean.code).toBe(2);
    expect((await preview(slack, "--context", flagFile, "--form", "novalue")).code).toBe(2);
    expect((await preview("--help")).code).toBe(0);
  });
});
