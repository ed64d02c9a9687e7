import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { escapeJsonString, escapeJsonStrings } from "./json-escape";

describe("escapeJsonStrings", () => {
  test("escapes every string as JSON.stringify does, inside objects and arrays", () => {
    const entry = {
      title: { plainText: 'say "hi"\n\\ok\t\u0001' },
      tags: ['a"b', "c"],
      count: 3,
      on: true,
      none: null,
      nested: [{ deep: "\u2028" }],
    };
    expect(escapeJsonStrings(entry)).toEqual({
      title: { plainText: 'say \\"hi\\"\\n\\\\ok\\t\\u0001' },
      tags: ['a\\"b', "c"],
      count: 3,
      on: true,
      none: null,
      nested: [{ deep: "\u2028" }],
    });
  });

  test("is a deep copy: the entry is left as it was", () => {
    const entry = { title: { plainText: 'a"b' }, tags: ["x"] };
    const escaped = escapeJsonStrings(entry);
    expect(escaped).not.toBe(entry);
    expect(escaped.title).not.toBe(entry.title);
    expect(escaped.tags).not.toBe(entry.tags);
    expect(entry.title.plainText).toBe('a"b');
  });

  test("escapes a lone surrogate, keeps a pair", () => {
    expect(escapeJsonString("a\ud800")).toBe("a\\ud800");
    expect(escapeJsonString("😀")).toBe("😀");
  });

  test("leaves objects that are not plain as they are, like the framework", () => {
    const date = new Date(0);
    expect(escapeJsonStrings({ at: date }).at).toBe(date);
  });

  test("keeps a __proto__ key as an own field", () => {
    const entry = JSON.parse('{"__proto__": {"x": "a\\"b"}}') as Record<string, unknown>;
    const escaped = escapeJsonStrings(entry);
    expect(Object.getPrototypeOf(escaped)).toBe(Object.prototype);
    expect(Object.hasOwn(escaped, "__proto__")).toBe(true);
  });

  test("property: an escaped string is what JSON.stringify puts between the quotes", () => {
    fc.assert(
      // Any UTF-16 code unit, lone surrogates and control characters included.
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
        (text) => {
          return `"${escapeJsonString(text)}"` === JSON.stringify(text);
        },
      ),
    );
  });

  test("property: structure and non-string values are kept", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const escaped = escapeJsonStrings(value);
        const parseBack = (v: unknown): unknown =>
          typeof v === "string"
            ? JSON.parse(`"${v}"`)
            : Array.isArray(v)
              ? v.map(parseBack)
              : v !== null && typeof v === "object"
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, parseBack(x)]))
                : v;
        return JSON.stringify(parseBack(escaped)) === JSON.stringify(value);
      }),
    );
  });
});
