import { describe, expect, test } from "vitest";
import { compileTemplate } from "./compiled-template";
import { basicAuthHeaderValue, equal, formatWithOffset, pathEncode, queryEncode } from "./helpers";

const render = (text: string, context: object = {}) =>
  compileTemplate(text, "helpers-test.hbs").render(context);

// 2020-02-04T01:54:45Z, the instant ARCHITECTURE.md uses for its examples.
const INSTANT = Date.UTC(2020, 1, 4, 1, 54, 45);

describe("equal and equalWithElse", () => {
  test.each(["equal", "equalWithElse"])("%s renders the block when the string forms are equal", (name) => {
    expect(render(`{{#${name} a b}}same{{else}}different{{/${name}}}`, { a: 1, b: "1" })).toBe("same");
    expect(render(`{{#${name} a b}}same{{else}}different{{/${name}}}`, { a: "x", b: "y" })).toBe("different");
    expect(render(`{{#${name} kind 'flag'}}flag{{/${name}}}`, { kind: "flag" })).toBe("flag");
    expect(render(`{{#${name} kind 'flag'}}flag{{/${name}}}`, { kind: "project" })).toBe("");
    expect(render(`{{#${name} a true}}yes{{/${name}}}`, { a: "true" })).toBe("yes");
  });

  test("a missing value has the string form of nothing", () => {
    expect(render("{{#equal missing ''}}empty{{else}}not{{/equal}}")).toBe("empty");
    expect(render("{{#equal missing 'undefined'}}eq{{else}}ne{{/equal}}")).toBe("ne");
  });

  test("keeps the context inside the block", () => {
    expect(render("{{#equal a 'x'}}{{b}}{{/equal}}", { a: "x", b: "inside" })).toBe("inside");
  });

  test("as a subexpression it gives the boolean", () => {
    expect(render("{{#if (equal a 2)}}two{{else}}other{{/if}}", { a: "2" })).toBe("two");
    expect(equal(1, "1")).toBe(true);
    expect(equal("a", "b")).toBe(false);
  });
});

describe("pathEncode and queryEncode", () => {
  test("pathEncode is encodeURI of the string form", () => {
    expect(pathEncode("a b/c?d=é#x")).toBe("a%20b/c?d=%C3%A9#x");
    expect(render("{{{pathEncode v}}}", { v: "my app/1" })).toBe("my%20app/1");
    expect(pathEncode(42)).toBe("42");
    expect(pathEncode(undefined)).toBe("");
  });

  test("queryEncode is encodeURIComponent of the string form", () => {
    expect(queryEncode("a b/c?d=é&x")).toBe("a%20b%2Fc%3Fd%3D%C3%A9%26x");
    expect(render("{{queryEncode 'LaunchDarkly: '}}{{queryEncode v}}", { v: "<strong>" })).toBe(
      "LaunchDarkly%3A%20%3Cstrong%3E",
    );
    expect(queryEncode(null)).toBe("");
  });

  test("a lone surrogate is encoded as U+FFFD instead of throwing", () => {
    expect(queryEncode("a\ud800b")).toBe("a%EF%BF%BDb");
    expect(pathEncode("\udc00")).toBe("%EF%BF%BD");
  });

  test("{{x}} HTML-escapes the helper's result and {{{x}}} does not, as in Handlebars", () => {
    expect(render("{{pathEncode v}}|{{{pathEncode v}}}", { v: "a=b&c" })).toBe("a&#x3D;b&amp;c|a=b&c");
  });
});

describe("basicAuthHeaderValue", () => {
  test("is Basic and the base64 of user:pass", () => {
    expect(basicAuthHeaderValue("user", "pass")).toBe("Basic dXNlcjpwYXNz");
    expect(
      render("{{{basicAuthHeaderValue required secret}}}", { required: "Aladdin", secret: "open sesame" }),
    ).toBe("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  });

  test("encodes UTF-8 and treats a missing part as empty", () => {
    expect(basicAuthHeaderValue("é", "ü")).toBe(`Basic ${Buffer.from("é:ü").toString("base64")}`);
    expect(render("{{{basicAuthHeaderValue user}}}", { user: "u" })).toBe("Basic dTo=");
  });
});

describe("formatWithOffset", () => {
  test.each([
    ["rfc3339", 0, "2020-02-04T01:54:45Z"],
    ["simple", 0, "2020-02-04 01:54:45"],
    ["seconds", 0, String(INSTANT / 1000)],
    ["milliseconds", 0, String(INSTANT)],
    ["rfc3339", 3600, "2020-02-04T02:54:45Z"],
    ["simple", -7200, "2020-02-03 23:54:45"],
    ["anything-else", 60, String(INSTANT + 60_000)],
  ])("format %s with offset %i s", (format, offset, expected) => {
    expect(formatWithOffset(INSTANT, offset, format)).toBe(expected);
    expect(render(`{{formatWithOffset t ${offset} '${format}'}}`, { t: INSTANT })).toBe(expected);
  });

  test("seconds are floored and fractions of a second dropped", () => {
    expect(formatWithOffset(INSTANT + 999, 0, "seconds")).toBe(String(INSTANT / 1000));
    expect(formatWithOffset(INSTANT + 999, 0, "rfc3339")).toBe("2020-02-04T01:54:45Z");
    expect(formatWithOffset(-1, 0, "seconds")).toBe("-1");
  });

  test("the framework's sample: an hour ahead, simple", () => {
    expect(
      render("{{formatWithOffset timestamp.milliseconds 3600 'simple'}}", {
        timestamp: { milliseconds: 1580777778959 },
      }),
    ).toBe("2020-02-04 01:56:18");
  });

  test("a numeric string is a time; nothing or garbage renders as nothing", () => {
    expect(formatWithOffset(String(INSTANT), "0", "rfc3339")).toBe("2020-02-04T01:54:45Z");
    expect(formatWithOffset(undefined, 0, "rfc3339")).toBe("");
    expect(formatWithOffset("soon", 0, "seconds")).toBe("");
    expect(formatWithOffset(INSTANT, "later", "seconds")).toBe("");
    expect(formatWithOffset(8.64e15 + 1, 0, "rfc3339")).toBe("");
    expect(render("{{formatWithOffset missing 0 'simple'}}")).toBe("");
  });

  test("without a format or an offset it gives milliseconds", () => {
    expect(render("{{formatWithOffset t 1}}", { t: INSTANT })).toBe(String(INSTANT + 1000));
    expect(render("{{formatWithOffset t}}", { t: INSTANT })).toBe(String(INSTANT));
  });
});

describe("the helper set", () => {
  test("has the built-ins the framework keeps", () => {
    expect(
      render(
        "{{#each xs}}{{#unless @first}},{{/unless}}{{this}}{{/each}} {{#with o}}{{k}}{{/with}} {{lookup o 'k'}}",
        {
          xs: [1, 2, 3],
          o: { k: "v" },
        },
      ),
    ).toBe("1,2,3 v v");
  });

  test("has no log helper and no other helper", () => {
    expect(() => render("{{log 'hello'}}")).toThrow(/Missing helper: "log"/);
    expect(() => render("{{uppercase name}}", { name: "x" })).toThrow(/Missing helper: "uppercase"/);
  });

  test("a field named like no helper is still a field", () => {
    expect(render("{{uppercase}}", { uppercase: "field" })).toBe("field");
  });
});
