import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { accessesOf } from "./accesses";
import { InvalidPolicyError, PolicyError } from "./errors";
import { compilePolicy } from "./policy";
import type { EntryLike } from "./types";
import { validatePolicy } from "./validation";

// Property tests run thousands of cases: give them room on a busy CI machine.
const PROPERTY = { timeout: 60_000 };

const FLAGS = "proj/*:env/*:flag/*";

function codes(statements: unknown): string[] {
  return validatePolicy(statements).errors.map((issue) => issue.code);
}

describe("validatePolicy: errors", () => {
  test("a valid policy has no errors and no warnings", () => {
    expect(validatePolicy([{ effect: "allow", resources: [FLAGS], actions: ["updateOn"] }])).toEqual({
      errors: [],
      warnings: [],
    });
  });

  test("effect defaults to allow", () => {
    expect(codes([{ resources: [FLAGS], actions: ["*"] }])).toEqual([]);
  });

  test.each([
    [{}, ["POLICY_ERR_NOT_ARRAY"]],
    ["proj/*", ["POLICY_ERR_NOT_ARRAY"]],
    [[], ["POLICY_ERR_EMPTY"]],
    [[null], ["POLICY_ERR_NOT_OBJECT"]],
    [[["proj/*"]], ["POLICY_ERR_NOT_OBJECT"]],
    [[{ effect: "Allow", resources: [FLAGS], actions: ["*"] }], ["POLICY_ERR_BAD_EFFECT"]],
    [[{ resource: [FLAGS], actions: ["*"] }], ["POLICY_ERR_UNKNOWN_FIELD", "POLICY_ERR_MISSING_LIST"]],
    [[{ resources: [FLAGS] }], ["POLICY_ERR_MISSING_LIST"]],
    [[{ resources: [FLAGS], notResources: [FLAGS], actions: ["*"] }], ["POLICY_ERR_BOTH_LISTS"]],
    [[{ resources: [FLAGS], actions: ["*"], notActions: ["x"] }], ["POLICY_ERR_BOTH_LISTS"]],
    [[{ resources: FLAGS, actions: ["*"] }], ["POLICY_ERR_NOT_LIST"]],
    [[{ resources: null, actions: ["*"] }], ["POLICY_ERR_NOT_LIST"]],
    [[{ resources: [], actions: ["*"] }], ["POLICY_ERR_EMPTY_LIST"]],
    [[{ resources: [FLAGS, 7], actions: ["*"] }], ["POLICY_ERR_NOT_STRING"]],
    [[{ resources: ["proj/*:"], actions: ["*"] }], ["POLICY_ERR_BAD_SPECIFIER"]],
    [[{ resources: [FLAGS], actions: [""] }], ["POLICY_ERR_BAD_ACTION"]],
    [[{ resources: [FLAGS], actions: ["update On"] }], ["POLICY_ERR_BAD_ACTION"]],
  ])("%j → %j", (statements, expected) => {
    expect(codes(statements)).toEqual(expected);
  });

  test("every problem is reported, each with its statement, JSON pointer and position", () => {
    const { errors } = validatePolicy([
      { effect: "allow", resources: [FLAGS, "proj/*:env/*:flag/x;"], actions: ["*"] },
      { effect: "nope", resources: ["proj/a b"], actions: ["ok", "bad!"] },
    ]);
    expect(errors).toEqual([
      expect.objectContaining({
        code: "POLICY_ERR_BAD_SPECIFIER",
        statementIndex: 0,
        pointer: "/0/resources/1",
        position: 20,
      }),
      expect.objectContaining({ code: "POLICY_ERR_BAD_EFFECT", statementIndex: 1, pointer: "/1/effect" }),
      expect.objectContaining({
        code: "POLICY_ERR_BAD_SPECIFIER",
        statementIndex: 1,
        pointer: "/1/resources/0",
        position: 6,
      }),
      expect.objectContaining({
        code: "POLICY_ERR_BAD_ACTION",
        statementIndex: 1,
        pointer: "/1/actions/1",
        position: 3,
      }),
    ]);
    expect(errors[0]?.message).toContain("expected a tag");
  });

  test("an unknown field names the field it probably meant, with an escaped pointer", () => {
    const { errors } = validatePolicy([{ resources: [FLAGS], actions: ["*"], notAction: ["x"], "a/b": 1 }]);
    expect(errors[0]).toMatchObject({
      pointer: "/0/notAction",
      message: expect.stringContaining('"notActions"'),
    });
    expect(errors[1]).toMatchObject({ pointer: "/0/a~1b" });
  });
});

describe("validatePolicy: warnings", () => {
  test("an unknown resource type names the nearest known one and where it is", () => {
    const { errors, warnings } = validatePolicy([{ resources: ["proj/*:env/*:falg/*"], actions: ["*"] }]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      expect.objectContaining({ code: "POLICY_WARN_UNKNOWN_TYPE", pointer: "/0/resources/0", position: 13 }),
    ]);
    expect(warnings[0]?.message).toContain('"flag"');
  });

  test("a type out of its place in the hierarchy is a warning (it can never match)", () => {
    const { warnings } = validatePolicy([
      { resources: ["proj/*:flag/*", "env/*", "member/*:token/*"], actions: ["*"] },
    ]);
    expect(warnings.map((w) => [w.code, w.pointer, w.position])).toEqual([
      ["POLICY_WARN_MISPLACED_TYPE", "/0/resources/0", 7],
      ["POLICY_WARN_MISPLACED_TYPE", "/0/resources/1", 0],
    ]);
    expect(warnings[0]?.message).toContain("proj/*:env/*:flag/*");
  });

  test("an unknown action names the nearest action of the statement's resource types", () => {
    const { warnings } = validatePolicy([
      { resources: [FLAGS], actions: ["updateOnn", "updateon", "createSegment"] },
    ]);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('nearest known: "updateOn"'),
      expect.stringContaining('nearest known: "updateOn"'),
      // createSegment is a segment action, not a flag one.
      expect.stringMatching(/unknown action "createSegment" for flag/),
    ]);
  });

  test("an action glob that matches no known action is a warning; one that matches is not", () => {
    const { warnings } = validatePolicy([{ resources: [FLAGS], actions: ["update*", "zap*"] }]);
    expect(warnings).toEqual([
      expect.objectContaining({ pointer: "/0/actions/1", code: "POLICY_WARN_UNKNOWN_ACTION" }),
    ]);
  });

  test("actions of notResources statements are checked against every known action", () => {
    expect(validatePolicy([{ notResources: [FLAGS], actions: ["createSegment"] }]).warnings).toEqual([]);
  });

  test("warnings do not stop compilation and are exposed on the compiled policy", () => {
    const policy = compilePolicy([{ resources: ["proj/*:env/*:falg/*"], actions: ["updateOnn"] }]);
    expect(policy.warnings.map((w) => w.code)).toEqual([
      "POLICY_WARN_UNKNOWN_TYPE",
      "POLICY_WARN_UNKNOWN_ACTION",
    ]);
  });
});

describe("compilePolicy errors", () => {
  test("throws one PolicyError listing every issue, its message summarising them", () => {
    let thrown: unknown;
    try {
      compilePolicy([{ effect: "maybe", resources: ["proj"], actions: ["*"] }, 3]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect(thrown).toBeInstanceOf(InvalidPolicyError);
    const error = thrown as InvalidPolicyError;
    expect(error.code).toBe("POLICY_ERR_INVALID");
    expect(error.issues.map((i) => i.pointer)).toEqual(["/0/effect", "/0/resources/0", "/1"]);
    expect(error.message).toMatch(/^invalid policy \(3 problems\)/);
    expect(error.message).toContain("/0/resources/0 (position 4)");
  });
});

describe("robustness", () => {
  const statementLike = fc.dictionary(
    fc.constantFrom("effect", "resources", "notResources", "actions", "notActions", "other"),
    fc.oneof(
      fc.array(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 20 }),
          fc.constantFrom("proj/*:env/*:flag/*", "*", "acct"),
        ),
        {
          maxLength: 3,
        },
      ),
      fc.constantFrom("allow", "deny"),
      fc.anything(),
    ),
  );

  test("property: validatePolicy never throws, and compilePolicy throws only its own error", PROPERTY, () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.array(fc.oneof(statementLike, fc.anything()), { maxLength: 4 })),
        (input) => {
          const { errors } = validatePolicy(input);
          try {
            compilePolicy(input);
            expect(errors).toEqual([]);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidPolicyError);
            expect((error as InvalidPolicyError).issues).toEqual(errors);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("holes in sparse arrays are reported, not skipped", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
    const sparse = [, "proj/*"];
    expect(codes([{ resources: sparse, actions: ["*"] }])).toEqual(["POLICY_ERR_NOT_STRING"]);
    expect(codes(new Array(1))).toEqual(["POLICY_ERR_NOT_OBJECT"]);
  });

  test("a value whose String() throws is still described", () => {
    expect(codes([{ effect: Object.create(null), resources: ["acct"], actions: ["*"] }])).toEqual([
      "POLICY_ERR_BAD_EFFECT",
    ]);
  });

  test("property: evaluating and deriving accesses never throw on arbitrary input", PROPERTY, () => {
    const policy = compilePolicy([{ notResources: ["acct"], actions: ["*"] }]);
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.string({ maxLength: 10 }),
        fc.anything(),
        (resource, action, entry) => {
          expect(typeof policy.allows({ resource, action })).toBe("boolean");
          expect(policy.explain({ resource, action }).allowed).toBe(policy.allows({ resource, action }));
          for (const access of accessesOf(entry as EntryLike))
            expect(typeof policy.allows(access)).toBe("boolean");
        },
      ),
      { numRuns: 2000 },
    );
  });
});
