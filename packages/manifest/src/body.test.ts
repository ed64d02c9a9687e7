import { join } from "node:path";
import { compileTemplate, TemplateError } from "@hookwire/templates";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { bodyReadsSecrets, chooseTemplate, renderBody } from "./body";
import type { Integration } from "./integration";
import { loadIntegration } from "./loader";

let valid: Integration;
let standard: Integration;
beforeAll(async () => {
  const load = async (name: string) => {
    const { integration } = await loadIntegration(join(import.meta.dirname, "fixtures", name));
    if (integration === undefined) throw new Error(`the ${name} fixture did not load`);
    return integration;
  };
  valid = await load("valid");
  standard = await load("standard-payload");
});

const withTemplates = (templates: Record<string, string>): Integration => ({
  ...valid,
  templates: Object.fromEntries(
    Object.entries(templates).map(([key, text]) => [
      key,
      compileTemplate(text, `body-test/${key}-${text.length}.${key === "default" ? "json.hbs" : "txt.hbs"}`),
    ]),
  ),
});

const flagEntry = () => ({
  kind: "flag",
  name: 'The "new" checkout\\flow',
  title: { plainText: "Ann turned on the flag\nin production" },
  member: { email: "ann@example.com" },
});

describe("chooseTemplate", () => {
  test("the kind's own template, else default, else the built-in one", () => {
    expect(chooseTemplate(valid, "flag").key).toBe("flag");
    expect(chooseTemplate(valid, "project").key).toBe("default");
    expect(chooseTemplate(valid, "webhook").key).toBe("default");
    expect(chooseTemplate(valid, undefined).key).toBe("default");
    const bare = { ...valid, templates: {} };
    const builtin = chooseTemplate(bare, "flag");
    expect(builtin.key).toBe("builtin");
    expect(builtin.template?.isJson).toBe(true);
  });

  test("the standard payload has no template", () => {
    expect(chooseTemplate(standard, "flag")).toEqual({ key: "standard" });
  });
});

describe("renderBody", () => {
  test("a JSON template gets the entry's strings JSON-escaped, the form variables as they are", () => {
    const { templateKey, body } = renderBody(valid, flagEntry(), { region: "us", quiet: false });
    expect(templateKey).toBe("flag");
    expect(JSON.parse(body ?? "")).toEqual({
      flag: 'The "new" checkout\\flow',
      region: "us",
      who: "ann@example.com",
    });
  });

  test("a text template gets the entry as it is", () => {
    const { templateKey, body } = renderBody(
      valid,
      { kind: "project", title: { plainText: 'Say "hi"' } },
      {},
    );
    expect(templateKey).toBe("default");
    expect(body).toBe('Say "hi"\n');
  });

  test("leaves the entry unchanged", () => {
    const entry = flagEntry();
    const before = JSON.stringify(entry);
    renderBody(valid, entry, {});
    renderBody(valid, entry, {});
    expect(JSON.stringify(entry)).toBe(before);
  });

  test("one entry rendered for several hooks: each gets its own form values", () => {
    const entry = flagEntry();
    const first = JSON.parse(renderBody(valid, entry, { region: "eu", quiet: false }).body ?? "");
    const second = JSON.parse(renderBody(valid, entry, { region: "us", quiet: true }).body ?? "");
    expect([first.region, first.who]).toEqual(["eu", "ann@example.com"]);
    expect([second.region, second.who]).toEqual(["us", ""]);
    expect(() => renderBody(valid, entry, {}, { strict: true })).toThrow(TemplateError);
    expect(JSON.parse(renderBody(valid, entry, {}).body ?? "")).toMatchObject({
      region: "",
      who: "ann@example.com",
    });
  });

  test("a template that reads no form variable is rendered once per entry, for every hook", () => {
    const shared = withTemplates({ default: '{"name": "{{{name}}}"}' });
    const perHook = withTemplates({ default: '{"name": "{{{name}}}", "to": "{{formVariables.region}}"}' });
    const entry = flagEntry();
    const sharedRender = vi.spyOn(shared.templates.default!, "render");
    const perHookRender = vi.spyOn(perHook.templates.default!, "render");
    const bodies = ["eu", "us", "ap"].map((region) => renderBody(shared, entry, { region }).body);
    expect(new Set(bodies).size).toBe(1);
    expect(sharedRender).toHaveBeenCalledTimes(1);
    const addressed = ["eu", "us", "ap"].map(
      (region) => JSON.parse(renderBody(perHook, entry, { region }).body ?? "").to,
    );
    expect(addressed).toEqual(["eu", "us", "ap"]);
    expect(perHookRender).toHaveBeenCalledTimes(3);
    // Another entry is rendered for itself.
    expect(renderBody(shared, { ...entry, name: "other" }, {}).body).toBe('{"name": "other"}');
    expect(sharedRender).toHaveBeenCalledTimes(2);
  });

  test("a blank body is null: nothing is sent", () => {
    const blank = withTemplates({ default: "  {{#if missing}}x{{/if}}\n\t\n" });
    expect(renderBody(blank, { kind: "flag" }, {})).toEqual({ templateKey: "default", body: null });
  });

  test("the standard payload is the entry as JSON", () => {
    const entry = {
      kind: "flag",
      _id: "e1",
      accesses: [{ action: "updateOn", resource: "proj/p:env/e:flag/f" }],
    };
    const first = renderBody(standard, entry, {});
    expect(first.templateKey).toBe("standard");
    expect(JSON.parse(first.body ?? "")).toEqual(entry);
    expect(renderBody(standard, entry, {}, { templateKey: "validation" }).templateKey).toBe("standard");
  });

  test("given the entry as it was posted, the standard payload is that, not the context", () => {
    const posted = { kind: "flag", date: 1764115200000, title: "[Ada](mailto:a@x) turned on", tags: null };
    const context = {
      kind: "flag",
      timestamp: { milliseconds: 1764115200000 },
      title: { plainText: "Ada" },
      tags: [],
    };
    expect(renderBody(standard, context, {}, { posted }).body).toBe(JSON.stringify(posted));
    // A templated integration renders the context whatever was posted.
    const templated = withTemplates({ default: '{"t": "{{title.plainText}}"}' });
    expect(renderBody(templated, context, {}, { posted }).body).toBe('{"t": "Ada"}');
  });

  test("templateKey picks a template, falling back to the kind's when it is absent", () => {
    const both = withTemplates({ default: '{"d": "{{kind}}"}', validation: "validation {{kind}}" });
    expect(renderBody(both, { kind: "flag" }, {}, { templateKey: "validation" }).body).toBe(
      "validation flag",
    );
    expect(renderBody(valid, { kind: "flag" }, {}, { templateKey: "validation" }).templateKey).toBe("flag");
  });

  test("strict rendering reports a missing field", () => {
    try {
      renderBody(valid, { kind: "flag" }, { region: "eu", quiet: true }, { strict: true });
      expect.unreachable("no error");
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as TemplateError).code).toBe("TEMPLATES_ERR_MISSING_FIELD");
      expect((error as TemplateError).field).toBe("name");
    }
  });

  describe("a JSON template that renders invalid JSON", () => {
    const broken = () =>
      withTemplates({ default: '{\n  "token": "{{formVariables.token}}",\n  "kind": "{{kind}}",\n}' });

    test("throws TEMPLATES_ERR_INVALID_JSON with the position", () => {
      try {
        renderBody(broken(), { kind: "flag" }, { token: "tok-123456" });
        expect.unreachable("no error");
      } catch (error) {
        const e = error as TemplateError;
        expect(e.code).toBe("TEMPLATES_ERR_INVALID_JSON");
        expect(e).toMatchObject({ line: 4, column: 1 });
        const text =
          renderBody(broken(), { kind: "flag" }, { token: "tok-123456" }, { checkJson: false }).body ?? "";
        expect(e.position).toBe(text.lastIndexOf("}"));
        expect(e.message).toContain("line 4, column 1");
      }
    });

    test("masks the secrets in the snippet and the message", () => {
      try {
        renderBody(broken(), { kind: "flag" }, { token: "tok-123456" });
        expect.unreachable("no error");
      } catch (error) {
        const e = error as TemplateError;
        expect(e.snippet).toContain("[secret]");
        expect(`${e.message} ${e.snippet}`).not.toContain("tok-123456");
      }
    });

    test("is rendered anyway when asked not to check", () => {
      expect(renderBody(broken(), { kind: "flag" }, { token: "t" }, { checkJson: false }).body).toContain(
        '"kind": "flag",\n}',
      );
    });
  });
});

describe("bodyReadsSecrets", () => {
  test.each([
    ['{"t": "{{formVariables.token}}"}', true],
    ['{"r": "{{formVariables.region}}"}', false],
    ["{{#each formVariables}}{{this}}{{/each}}", true],
    ["{{#with formVariables}}{{region}}{{/with}}", true],
    ["{{lookup formVariables 'token'}}", true],
    ["{{#each tags}}{{../formVariables.token}}{{/each}}", true],
    ["{{#each this}}{{this}}{{/each}}", true],
    ["{{@root.formVariables.token}}", true],
    ["{{kind}} {{title.plainText}}", false],
  ])("%s → %s", (text, reads) => {
    expect(bodyReadsSecrets(withTemplates({ default: text }), "default")).toBe(reads);
  });

  test("the standard payload and the built-in template read no form variable", () => {
    expect(bodyReadsSecrets(standard, "standard")).toBe(false);
    expect(bodyReadsSecrets(valid, "builtin")).toBe(false);
  });

  test("an integration without secrets never reads one", () => {
    const open = { ...withTemplates({ default: "{{formVariables.token}}" }), secretKeys: new Set<string>() };
    expect(bodyReadsSecrets(open, "default")).toBe(false);
  });
});
