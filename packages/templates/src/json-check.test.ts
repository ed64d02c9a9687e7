import { describe, expect, test } from "vitest";
import { TemplateError } from "./errors";
import { assertRenderedJson, findJsonFault, jsonSnippet } from "./json-check";

describe("findJsonFault", () => {
  test("valid JSON has no fault", () => {
    expect(findJsonFault('{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"]}')).toBeUndefined();
    expect(findJsonFault("  []\n")).toBeUndefined();
  });

  test.each([
    ["a trailing comma in an object", '{"a": 1,\n}', 9, 2, 1, "a double-quoted property name"],
    ["a trailing comma in an array", '["a",\n  "b",\n]', 13, 3, 1, "a value"],
    ["a missing comma", '{"a": 1 "b": 2}', 8, 1, 9, "',' or '}' after a property value"],
    ["a raw newline in a string", '{"a": "x\ny"}', 8, 1, 9, "no raw control character"],
    ["a bad escape", '{"a": "\\&quot;"}', 7, 1, 8, "a valid escape"],
    ["nothing", "", 0, 1, 1, "a value, found the end of the text"],
    ["text after the value", '{"a": 1} x', 9, 1, 10, "the end of the text"],
    ["an unclosed string", '{"a": "x', 8, 1, 9, "'\"' to close the string"],
    ["a missing value", '{"a": }', 6, 1, 7, "a value"],
  ])("%s", (_case, text, position, line, column, expected) => {
    const fault = findJsonFault(text);
    expect(fault).toMatchObject({ position, line, column });
    expect(fault?.expected).toContain(expected);
  });
});

describe("jsonSnippet", () => {
  test("marks the fault on one line", () => {
    expect(jsonSnippet('{"a": 1,\n}', 9)).toBe('{"a": 1,\\n⟨here⟩}');
  });

  test("masks secrets, even those cut by the window's edge", () => {
    const text = `{"token": "s3cr3t-value-that-is-long", "x": 1,}`;
    const position = text.length - 1;
    const snippet = jsonSnippet(text, position, ["s3cr3t-value-that-is-long"], 25);
    expect(snippet).not.toMatch(/s3cr3t|value-that|is-long/);
    expect(snippet).toContain("[secret]");
    expect(snippet).toContain("⟨here⟩}");
  });
});

describe("assertRenderedJson", () => {
  test("throws TEMPLATES_ERR_INVALID_JSON with the position and a snippet", () => {
    try {
      assertRenderedJson('{\n  "a": "b",\n}', "templates/x.json.hbs");
      expect.unreachable("no error thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      const e = error as TemplateError;
      expect(e.code).toBe("TEMPLATES_ERR_INVALID_JSON");
      expect(e).toMatchObject({ file: "templates/x.json.hbs", line: 3, column: 1, position: 14 });
      expect(e.snippet).toContain("⟨here⟩}");
      expect(e.message).toContain("line 3, column 1 (position 14)");
    }
  });

  test("accepts valid JSON", () => {
    expect(() => assertRenderedJson('{"a": "b"}', "ok.json")).not.toThrow();
  });
});
