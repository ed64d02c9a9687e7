import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PolicyError, SpecifierSyntaxError } from "./errors";
import { parseSpecifier, printSpecifier, type ResourceLevel, type ResourceSpecifier } from "./specifier";

// Property tests run thousands of cases: give them room on a busy CI machine.
const PROPERTY = { timeout: 60_000 };

function levels(text: string): readonly ResourceLevel[] {
  const parsed = parseSpecifier(text);
  if (parsed.kind !== "path") throw new Error(`expected a path, got ${parsed.kind}`);
  return parsed.levels;
}

function syntaxError(text: string): SpecifierSyntaxError {
  try {
    parseSpecifier(text);
  } catch (error) {
    if (error instanceof SpecifierSyntaxError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} parsed, but should not have`);
}

describe("parseSpecifier", () => {
  test("reads levels, keys and tags", () => {
    expect(levels("proj/mobile;ios:env/production;critical:flag/checkout;ops,security")).toEqual([
      { type: "proj", key: "mobile", tags: ["ios"] },
      { type: "env", key: "production", tags: ["critical"] },
      { type: "flag", key: "checkout", tags: ["ops", "security"] },
    ]);
  });

  test("keeps globs and other characters of keys as written", () => {
    expect(levels("proj/*:env/prod-*:flag/my.flag_v2")).toEqual([
      { type: "proj", key: "*", tags: [] },
      { type: "env", key: "prod-*", tags: [] },
      { type: "flag", key: "my.flag_v2", tags: [] },
    ]);
    expect(levels("member/ana@example.com")[0]?.key).toBe("ana@example.com");
  });

  test("reads the bare acct", () => {
    expect(parseSpecifier("acct")).toEqual({ kind: "acct" });
  });

  test("reads any type name (unknown types are a validation warning, not a syntax error)", () => {
    expect(levels("widget/*")).toEqual([{ type: "widget", key: "*", tags: [] }]);
  });

  test.each([
    ["", 0, "resource type"],
    ["proj", 4, `expected "/"`],
    ["proj/", 5, "expected a key"],
    ["proj/*:", 7, "resource type after"],
    ["proj/*:env", 10, `expected "/"`],
    ["proj/*;", 7, "expected a tag"],
    ["proj/*;a,", 9, "expected a tag"],
    ["proj/*;a;b", 8, `"," and a tag`],
    ["proj/a b", 6, "whitespace"],
    [" proj/*", 0, "resource type"],
    ["proj/*:acct", 7, `"acct" stands alone`],
    ["acct/x", 0, `"acct" stands alone`],
    ["acct:proj/*", 0, `"acct" stands alone`],
    ["proj//x", 5, "expected a key"],
    ["proj/a/b", 6, `":" and the next level`],
    ["pr.oj/*", 2, `expected "/"`],
  ])("%j fails at position %i, saying %j", (text, position, expected) => {
    const error = syntaxError(text);
    expect(error.code).toBe("POLICY_ERR_BAD_SPECIFIER");
    expect(error.position).toBe(position);
    expect(error.message).toContain(expected);
    expect(error.message).toContain(`position ${position}`);
  });
});

const typeName = fc.oneof(
  fc.constantFrom("proj", "env", "flag", "segment", "member", "token", "metric-group", "relay-proxy-config"),
  fc
    .string({ unit: fc.constantFrom(..."abcxyzAZ09-_"), minLength: 1, maxLength: 8 })
    .filter((t) => t !== "acct"),
);
// Everything a key or tag may hold: letters, globs, dots, "@", "~", non-ASCII.
const keyText = fc.string({ unit: fc.constantFrom(..."ab*.-_@~Zé9"), minLength: 1, maxLength: 10 });
const level = fc.record({ type: typeName, key: keyText, tags: fc.array(keyText, { maxLength: 3 }) });
const specifier: fc.Arbitrary<ResourceSpecifier> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<ResourceSpecifier>({ kind: "acct" }) },
  {
    weight: 9,
    arbitrary: fc
      .array(level, { minLength: 1, maxLength: 4 })
      .map((levels) => ({ kind: "path" as const, levels })),
  },
);

describe("printSpecifier", () => {
  test("prints what it parsed", () => {
    for (const text of ["acct", "proj/*", "proj/a;x,y:env/*:flag/f;t", "member/*:token/*"]) {
      expect(printSpecifier(parseSpecifier(text))).toBe(text);
    }
  });

  test("property: printing and re-parsing a specifier gives the same specifier", PROPERTY, () => {
    fc.assert(
      fc.property(specifier, (spec) => {
        expect(parseSpecifier(printSpecifier(spec))).toEqual(spec);
      }),
      { numRuns: 2000 },
    );
  });

  test(
    "property: any string either parses to a specifier that prints back to it, or throws a PolicyError",
    PROPERTY,
    () => {
      const text = fc.oneof(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.string({ unit: fc.constantFrom(..."proj/*:;,env acct\t"), maxLength: 30 }),
        specifier.map(printSpecifier).chain((s) => fc.nat(s.length).map((cut) => s.slice(0, cut))),
      );
      fc.assert(
        fc.property(text, (input) => {
          let parsed: ResourceSpecifier;
          try {
            parsed = parseSpecifier(input);
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyError);
            expect((error as PolicyError).code).toBe("POLICY_ERR_BAD_SPECIFIER");
            return;
          }
          expect(printSpecifier(parsed)).toBe(input);
        }),
        { numRuns: 2000 },
      );
    },
  );

  test("a non-string input throws a PolicyError, not a TypeError", () => {
    expect(() => parseSpecifier(42 as unknown as string)).toThrowError(PolicyError);
    expect(() => parseSpecifier(null as unknown as string)).toThrowError(PolicyError);
  });
});
