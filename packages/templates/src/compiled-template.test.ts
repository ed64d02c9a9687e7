import { describe, expect, test } from "vitest";
import { BUILTIN_DEFAULT_TEMPLATE, BUILTIN_DEFAULT_TEMPLATE_FILE } from "./builtin-template";
import { compileTemplate } from "./compiled-template";
import { TemplateError } from "./errors";
import { escapeJsonStrings } from "./json-escape";
import { TEMPLATE_LIMITS } from "./limits";

function failure(action: () => unknown): TemplateError {
  try {
    action();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error("expected a TemplateError, nothing was thrown");
}

describe("compileTemplate", () => {
  test("knows a JSON template by its file name", () => {
    expect(compileTemplate("{}", "t/a.json").isJson).toBe(true);
    expect(compileTemplate("{}", "t/a.json.hbs").isJson).toBe(true);
    expect(compileTemplate("{}", "t/A.JSON.HBS").isJson).toBe(true);
    expect(compileTemplate("x", "t/a.txt.hbs").isJson).toBe(false);
    expect(compileTemplate("x", "t/a.text.hbs").isJson).toBe(false);
  });

  test("compiles once per file and text", () => {
    const a = compileTemplate("{{kind}}", "cache/a.hbs");
    expect(compileTemplate("{{kind}}", "cache/a.hbs")).toBe(a);
    expect(compileTemplate("{{kind}} ", "cache/a.hbs")).not.toBe(a);
    expect(compileTemplate("{{kind}}", "cache/b.hbs")).not.toBe(a);
  });

  test("refuses a template over the size cap", () => {
    const error = failure(() => compileTemplate("x".repeat(TEMPLATE_LIMITS.templateMaxBytes + 1), "big.hbs"));
    expect(error.code).toBe("TEMPLATES_ERR_TOO_LARGE");
    expect(error.file).toBe("big.hbs");
  });

  test.each([
    ["syntax error", "line one\nline two\n{{#if x}}open", 3],
    ["mismatched block", "a\n{{#if x}}\n{{/each}}", 2],
    ["partial", "a\nb {{> header}}", 2],
    ["partial block", "{{#> layout}}x{{/layout}}", 1],
    ["inline decorator", "x\n{{#*inline 'p'}}y{{/inline}}", 2],
    ["#if without its argument", "x\n\n{{#if}}y{{/if}}", 3],
    ["#with with two arguments", "{{#with a b}}y{{/with}}", 1],
    ["#each without a list", "{{#each}}y{{/each}}", 1],
  ])("a %s is a compile error with the file and line", (_case, text, line) => {
    const error = failure(() => compileTemplate(text, "templates/broken.hbs"));
    expect(error.code).toBe("TEMPLATES_ERR_COMPILE");
    expect(error.file).toBe("templates/broken.hbs");
    expect(error.line).toBe(line);
    expect(error.message).toContain(`templates/broken.hbs:${line}`);
  });

  test("refuses 12 000 nested blocks with the line where the depth limit is passed, before parsing", () => {
    const levels = 12_000;
    const text = `{\n${"{{#if a}}\n".repeat(levels)}x${"{{/if}}".repeat(levels)}\n}`;
    expect(Buffer.byteLength(text)).toBeLessThan(TEMPLATE_LIMITS.templateMaxBytes);
    let error: unknown;
    try {
      compileTemplate(text, "deep.json.hbs");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).code).toBe("TEMPLATES_ERR_TOO_DEEP");
    // Line 1 is "{", so the 65th block opens on line 66.
    expect((error as TemplateError).line).toBe(TEMPLATE_LIMITS.maxBlockDepth + 2);
    expect((error as Error).message).toMatch(/^deep\.json\.hbs:66: blocks nested more than 64 deep/);
  });

  test("counts depth, not blocks: many blocks side by side, comments and {{^}} as an else compile", () => {
    const siblings = "{{#if a}}x{{/if}}".repeat(500);
    const withElse = `${"{{#if a}}".repeat(60)}{{^}}none${"{{/if}}".repeat(60)}`;
    const commented = `{{!-- ${"{{#if a}}".repeat(100)} --}}{{#if a}}ok{{/if}}`;
    for (const [i, text] of [siblings, withElse, commented].entries())
      expect(() => compileTemplate(text, `shape-${i}.txt.hbs`)).not.toThrow();
  });

  test("records calls of helpers the framework lacks, for a notice", () => {
    const template = compileTemplate("a\n{{shout name}}", "unknown-helper.hbs");
    expect(template.analysis.unknownHelpers).toEqual([{ name: "shout", line: 2, column: 3 }]);
  });
});

describe("render, lenient (delivery)", () => {
  test("a missing field renders as nothing", () => {
    const template = compileTemplate(
      "[{{project.environment.key}}][{{nope}}][{{#each missing}}x{{/each}}]",
      "lenient.hbs",
    );
    expect(template.render({})).toBe("[][][]");
  });

  test("{{x}} is HTML-escaped, {{{x}}} is not", () => {
    const template = compileTemplate("{{v}}|{{{v}}}", "escape.hbs");
    expect(template.render({ v: `<a href="x">'&'</a>` })).toBe(
      "&lt;a href&#x3D;&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;|<a href=\"x\">'&'</a>",
    );
  });

  test("does not reach prototype properties", () => {
    const template = compileTemplate(
      "[{{constructor.name}}][{{__proto__}}][{{kind.constructor}}]",
      "proto.hbs",
    );
    expect(template.render({ kind: "flag" })).toBe("[][][]");
  });
});

describe("render, strict (hookwire validate)", () => {
  const text = '{\n  "env": "{{project.environment.key}}",\n  "c": "{{#if comment}}{{comment}}{{/if}}"\n}';
  const template = compileTemplate(text, "templates/strict.json.hbs");

  test("names the file, line and path of a missing field", () => {
    const error = failure(() => template.render({ project: { environment: {} } }, { strict: true }));
    expect(error.code).toBe("TEMPLATES_ERR_MISSING_FIELD");
    expect(error.file).toBe("templates/strict.json.hbs");
    expect(error.line).toBe(2);
    expect(error.column).toBe(13);
    expect(error.field).toBe("project.environment.key");
    expect(error.message).toBe(
      'templates/strict.json.hbs:2:13: missing field "project.environment.key" ("key" is not there)',
    );
  });

  test("a missing parent is reported with the same line", () => {
    const error = failure(() => template.render({}, { strict: true }));
    expect(error.code).toBe("TEMPLATES_ERR_MISSING_FIELD");
    expect(error.line).toBe(2);
    expect(error.field).toBe("project.environment.key");
    expect(error.message).toContain('("project" is not there)');
  });

  test("a helper's argument may be missing, as in Handlebars' strict mode", () => {
    expect(template.render({ project: { environment: { key: "production" } } }, { strict: true })).toContain(
      '"c": ""',
    );
  });

  test("but not the parent of a helper's argument", () => {
    const error = failure(() =>
      compileTemplate("x\n{{#if project.environment}}y{{/if}}", "parent.hbs").render({}, { strict: true }),
    );
    expect(error.code).toBe("TEMPLATES_ERR_MISSING_FIELD");
    expect(error.line).toBe(2);
    expect(error.field).toBe("project.environment");
  });

  test("inside a block, with a path that climbs out of it", () => {
    const nested = compileTemplate("{{#each tags}}\n{{this}} {{../missing}}{{/each}}", "nested.hbs");
    const error = failure(() => nested.render({ tags: ["a"] }, { strict: true }));
    expect(error.line).toBe(2);
    expect(error.field).toBe("../missing");
  });

  test("lists every missing field of the render, each place once", () => {
    const several = compileTemplate(
      "{{a}}\n{{#each list}}{{../b.c}}{{/each}}\n{{a}} {{#if d.e}}{{/if}}",
      "templates/several.hbs",
    );
    const error = failure(() => several.render({ list: [1, 2, 3], b: {} }, { strict: true }));
    expect(error.missing).toEqual([
      { field: "a", segment: "a", line: 1, column: 3 },
      { field: "../b.c", segment: "c", line: 2, column: 17 },
      { field: "a", segment: "a", line: 3, column: 3 },
      { field: "d.e", segment: "d", line: 3, column: 13 },
    ]);
    expect(error.message.split("\n")).toHaveLength(4);
  });

  test("a value that is not an object is a missing field, not a crash", () => {
    const error = failure(() =>
      compileTemplate("{{kind.name}}", "scalar.hbs").render({ kind: "flag" }, { strict: true }),
    );
    expect(error.code).toBe("TEMPLATES_ERR_MISSING_FIELD");
    expect(error.field).toBe("kind.name");
  });

  test("never quotes the value it was reading", () => {
    const leaky = compileTemplate("{{formVariables.token.part}}", "leak.hbs");
    const error = failure(() => leaky.render({ formVariables: { token: "hunter2" } }, { strict: true }));
    expect(error.message).not.toContain("hunter2");
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain("hunter2");
  });

  test("the lenient render of the same template is unaffected", () => {
    expect(template.render({})).toBe('{\n  "env": "",\n  "c": ""\n}');
  });
});

describe("render limits", () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);

  test("#each nested three deep over large lists stops quickly and says why", () => {
    const hostile = compileTemplate(
      "{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}",
      "hostile/each.hbs",
    );
    const started = performance.now();
    const error = failure(() => hostile.render({ a: items }));
    const elapsedMs = performance.now() - started;
    expect(error.code).toBe("TEMPLATES_ERR_RENDER_LIMIT");
    expect(error.file).toBe("hostile/each.hbs");
    expect(error.message).toMatch(/block iterations/);
    // The uncapped render is 10^9 iterations, minutes of work; the cap ends it within a second
    // even on a loaded machine.
    expect(elapsedMs).toBeLessThan(1000);
  });

  test("blocks over lists without #each are counted too", () => {
    const hostile = compileTemplate(
      "{{#a}}{{#../a}}{{#../../a}}x{{/../../a}}{{/../a}}{{/a}}",
      "hostile/blocks.hbs",
    );
    expect(failure(() => hostile.render({ a: items })).code).toBe("TEMPLATES_ERR_RENDER_LIMIT");
  });

  test("a loop printing a large value stops on the work cap", () => {
    const hostile = compileTemplate("{{#each a}}{{../big}}{{/each}}", "hostile/big.hbs");
    const error = failure(() => hostile.render({ a: items, big: "&".repeat(100_000) }));
    expect(error.code).toBe("TEMPLATES_ERR_RENDER_LIMIT");
    expect(error.message).toMatch(/characters/);
  });

  test("escaping a large value many times stops on the work cap", () => {
    const hostile = compileTemplate("{{big}}".repeat(200), "hostile/escape.hbs");
    const error = failure(() => hostile.render({ big: "<".repeat(100_000) }));
    expect(error.code).toBe("TEMPLATES_ERR_RENDER_LIMIT");
  });

  test("output over 1 MiB is refused", () => {
    const large = compileTemplate("{{{big}}}{{{big}}}", "large.hbs");
    const error = failure(() => large.render({ big: "x".repeat(600 * 1024) }));
    expect(error.code).toBe("TEMPLATES_ERR_OUTPUT_TOO_LARGE");
    expect(large.render({ big: "x".repeat(500 * 1024) })).toHaveLength(1000 * 1024);
  });

  test("output is measured in UTF-8 bytes", () => {
    const large = compileTemplate("{{{big}}}", "large-utf8.hbs");
    expect(failure(() => large.render({ big: "é".repeat(600 * 1024) })).code).toBe(
      "TEMPLATES_ERR_OUTPUT_TOO_LARGE",
    );
  });

  test("a render after a capped one starts with a fresh budget", () => {
    const hostile = compileTemplate("{{#each a}}{{#each ../a}}x{{/each}}{{/each}}", "hostile/fresh.hbs");
    expect(failure(() => hostile.render({ a: items })).code).toBe("TEMPLATES_ERR_RENDER_LIMIT");
    expect(hostile.render({ a: items.slice(0, 90) })).toHaveLength(8100);
  });
});

describe("the built-in default template", () => {
  const template = compileTemplate(BUILTIN_DEFAULT_TEMPLATE, BUILTIN_DEFAULT_TEMPLATE_FILE);

  test("is a JSON template that gives valid JSON for an entry with awkward text", () => {
    expect(template.isJson).toBe(true);
    const entry = {
      timestamp: { rfc3339: "2020-02-04T01:54:45Z" },
      kind: "flag",
      verbKind: "updateOn",
      tags: ["a", "b"],
      title: { plainText: 'Ann turned on "beta"\nin \\prod' },
      details: { plainText: "tab\there" },
      comment: "ok",
    };
    const body = JSON.parse(template.render(escapeJsonStrings(entry)));
    expect(body).toEqual({
      date: "2020-02-04T01:54:45Z",
      event: { kind: "flag", action: "updateOn" },
      tags: "a,b",
      message: 'Ann turned on "beta"\nin \\prod',
      details: "tab\there",
      comment: "ok",
    });
  });
});
