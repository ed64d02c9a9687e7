import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compilePolicy } from "./policy";
import type { Access, Statement } from "./types";

// Property tests run thousands of cases: give them room on a busy CI machine.
const PROPERTY = { timeout: 60_000 };

const PROD_FLAG = "proj/default:env/production:flag/demo-flag";

function allows(statements: Statement[], resource: string, action = "updateOn"): boolean {
  return compilePolicy(statements).allows({ resource, action });
}

describe("evaluation", () => {
  test("nothing matches → denied by default, with no deciding statement", () => {
    const policy = compilePolicy([{ resources: ["proj/*:env/test:flag/*"], actions: ["*"] }]);
    expect(policy.allows({ resource: PROD_FLAG, action: "updateOn" })).toBe(false);
    expect(policy.explain({ resource: PROD_FLAG, action: "updateOn" })).toMatchObject({
      allowed: false,
      statementIndex: null,
      effect: null,
      reason: expect.stringContaining('env key "production" does not match "test"'),
    });
  });

  test("a matching allow allows and names its statement", () => {
    const policy = compilePolicy([
      { resources: ["proj/*:env/test:flag/*"], actions: ["*"] },
      { effect: "allow", resources: ["proj/*:env/production:flag/*"], actions: ["updateOn"] },
    ]);
    expect(policy.explain({ resource: PROD_FLAG, action: "updateOn" })).toMatchObject({
      allowed: true,
      statementIndex: 1,
      effect: "allow",
      reason: expect.stringContaining('"proj/*:env/production:flag/*"'),
    });
  });

  test("any matching deny wins over any allow, whatever the order", () => {
    const allow: Statement = { effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] };
    const deny: Statement = {
      effect: "deny",
      resources: ["proj/*:env/production:flag/*"],
      actions: ["update*"],
    };
    for (const statements of [
      [allow, deny],
      [deny, allow],
    ]) {
      const policy = compilePolicy(statements);
      expect(policy.allows({ resource: PROD_FLAG, action: "updateOn" })).toBe(false);
      expect(policy.explain({ resource: PROD_FLAG, action: "updateOn" })).toMatchObject({
        effect: "deny",
        allowed: false,
      });
      // The deny covers only update*: other actions fall to the allow.
      expect(policy.allows({ resource: PROD_FLAG, action: "deleteFlag" })).toBe(true);
      expect(policy.allows({ resource: "proj/default:env/test:flag/demo-flag", action: "updateOn" })).toBe(
        true,
      );
    }
  });

  test("notResources matches every resource except those listed", () => {
    const statements: Statement[] = [{ notResources: ["proj/*:env/production:flag/*"], actions: ["*"] }];
    expect(allows(statements, PROD_FLAG)).toBe(false);
    expect(allows(statements, "proj/default:env/test:flag/demo-flag")).toBe(true);
    expect(allows(statements, "member/abc")).toBe(true);
    expect(allows(statements, "acct")).toBe(true);
  });

  test("notActions matches every action except those listed", () => {
    const statements: Statement[] = [
      { resources: ["proj/*:env/*:flag/*"], notActions: ["delete*", "createFlag"] },
    ];
    expect(allows(statements, PROD_FLAG, "updateOn")).toBe(true);
    expect(allows(statements, PROD_FLAG, "deleteFlag")).toBe(false);
    expect(allows(statements, PROD_FLAG, "createFlag")).toBe(false);
  });

  test("a deny with notActions denies everything but the listed actions", () => {
    const statements: Statement[] = [
      { resources: ["proj/*:env/*:flag/*"], actions: ["*"] },
      { effect: "deny", resources: ["proj/*:env/production:flag/*"], notActions: ["updateOn"] },
    ];
    expect(allows(statements, PROD_FLAG, "updateOn")).toBe(true);
    expect(allows(statements, PROD_FLAG, "updateRules")).toBe(false);
  });

  test("types are matched level by level: a specifier matches only the same types in the same order", () => {
    const statements: Statement[] = [{ resources: ["proj/*"], actions: ["*"] }];
    expect(allows(statements, "proj/default")).toBe(true);
    expect(allows(statements, PROD_FLAG)).toBe(false); // proj/* is the project, not what is inside it
    expect(allows(statements, "proj/default:env/production")).toBe(false);
    expect(allows([{ resources: ["proj/*:env/*"], actions: ["*"] }], "proj/default:env/production")).toBe(
      true,
    );
    expect(allows([{ resources: ["proj/*:env/*:segment/*"], actions: ["*"] }], PROD_FLAG)).toBe(false);
    expect(allows([{ resources: ["flag/*"], actions: ["*"] }], PROD_FLAG)).toBe(false);
    expect(allows([{ resources: ["proj/*:env/*:flag/*:extra/*"], actions: ["*"] }], PROD_FLAG)).toBe(false);
  });

  test("acct is bare and matches only the account", () => {
    const statements: Statement[] = [{ resources: ["acct"], actions: ["*"] }];
    expect(allows(statements, "acct", "updateOrganization")).toBe(true);
    expect(allows(statements, "proj/acct", "updateOrganization")).toBe(false);
    expect(allows([{ resources: ["proj/*"], actions: ["*"] }], "acct")).toBe(false);
  });

  test("keys are globbed with * inside one level and are case-sensitive; . is a dot", () => {
    const statements: Statement[] = [{ resources: ["proj/*:env/prod*:flag/release.*"], actions: ["*"] }];
    expect(allows(statements, "proj/p:env/production:flag/release.checkout")).toBe(true);
    expect(allows(statements, "proj/p:env/prod:flag/release.")).toBe(true);
    expect(allows(statements, "proj/p:env/Production:flag/release.checkout")).toBe(false);
    expect(allows(statements, "proj/p:env/production:flag/releaseXcheckout")).toBe(false);
    // The star never crosses into another level.
    expect(allows([{ resources: ["proj/*"], actions: ["*"] }], "proj/a:env/b")).toBe(false);
  });

  test("actions are globbed: update* covers every update action", () => {
    const statements: Statement[] = [{ resources: ["proj/*:env/*:flag/*"], actions: ["update*"] }];
    expect(allows(statements, PROD_FLAG, "updateOn")).toBe(true);
    expect(allows(statements, PROD_FLAG, "updateFallthrough")).toBe(true);
    expect(allows(statements, PROD_FLAG, "createFlag")).toBe(false);
    expect(allows(statements, PROD_FLAG, "UpdateOn")).toBe(false);
  });

  test("every tag a specifier level lists must be on that level of the resource (AND)", () => {
    const statements: Statement[] = [{ resources: ["proj/*:env/*:flag/*;ops,security"], actions: ["*"] }];
    expect(allows(statements, "proj/p:env/e:flag/f;ops,security")).toBe(true);
    expect(allows(statements, "proj/p:env/e:flag/f;security,ops,extra")).toBe(true);
    expect(allows(statements, "proj/p:env/e:flag/f;ops")).toBe(false);
    expect(allows(statements, "proj/p:env/e:flag/f")).toBe(false);
    // Tags count only on their own level.
    expect(allows(statements, "proj/p;ops,security:env/e:flag/f")).toBe(false);
  });

  test("a level without tags ignores the resource's tags; tags glob too", () => {
    expect(
      allows([{ resources: ["proj/*:env/*:flag/*"], actions: ["*"] }], "proj/p;a:env/e;b:flag/f;c,d"),
    ).toBe(true);
    const tagged: Statement[] = [{ resources: ["proj/*;mobile-*:env/*;critical:flag/*"], actions: ["*"] }];
    expect(allows(tagged, "proj/p;mobile-ios:env/e;critical:flag/f")).toBe(true);
    expect(allows(tagged, "proj/p;web:env/e;critical:flag/f")).toBe(false);
    expect(allows(tagged, "proj/p;mobile-ios:env/e:flag/f")).toBe(false);
  });

  test("in a concrete resource every character is literal, * included", () => {
    const statements: Statement[] = [{ resources: ["proj/*:env/production:flag/*"], actions: ["*"] }];
    expect(allows(statements, "proj/default:env/*:flag/demo-flag")).toBe(false);
    expect(
      compilePolicy(statements).explain({ resource: "proj/default:env/*:flag/demo-flag", action: "x" })
        .reason,
    ).toContain('env key "*" (all of them, which only a * pattern covers) does not match "production"');
    expect(
      allows([{ resources: ["proj/*:env/*:flag/*"], actions: ["*"] }], "proj/default:env/*:flag/demo-flag"),
    ).toBe(true);
  });

  test("an access whose resource does not parse is denied, and explain says why", () => {
    const policy = compilePolicy([{ notResources: ["acct"], notActions: ["x"] }]);
    expect(policy.allows({ resource: "proj/a b", action: "y" })).toBe(false);
    expect(policy.explain({ resource: "proj/a b", action: "y" })).toMatchObject({
      allowed: false,
      statementIndex: null,
      reason: expect.stringContaining("position 6"),
    });
    expect(policy.allows({ resource: 5, action: "y" } as unknown as Access)).toBe(false);
  });

  test("allowsAny: an entry goes to the hook when at least one access is allowed", () => {
    const policy = compilePolicy([{ resources: ["proj/*:env/production:flag/*"], actions: ["*"] }]);
    const test = { resource: "proj/default:env/test:flag/demo-flag", action: "updateOn" };
    const prod = { resource: PROD_FLAG, action: "updateOn" };
    expect(policy.allowsAny([test])).toBe(false);
    expect(policy.allowsAny([test, prod])).toBe(true);
    expect(policy.allowsAny([])).toBe(false);
  });

  test("explain names the part of a notResources or notActions statement that decided", () => {
    const policy = compilePolicy([
      { effect: "deny", notResources: ["proj/*:env/test:flag/*"], notActions: ["view*"] },
    ]);
    expect(policy.explain({ resource: PROD_FLAG, action: "updateOn" })).toMatchObject({
      allowed: false,
      statementIndex: 0,
      effect: "deny",
      reason: expect.stringContaining("notResources"),
    });
  });
});

// Small vocabularies, so that random specifiers and resources often meet.
const key = fc.constantFrom("a", "b", "prod", "production");
const keyPattern = fc.constantFrom("a", "b", "*", "prod*", "*o*", "production");
const tag = fc.constantFrom("ops", "sec", "x");
const types = fc.constantFrom(
  ["proj"],
  ["proj", "env"],
  ["proj", "env", "flag"],
  ["proj", "env", "segment"],
  ["member"],
);
const action = fc.constantFrom("updateOn", "updateRules", "createFlag", "deleteFlag");
const actionPattern = fc.constantFrom("updateOn", "update*", "*", "*Flag", "deleteFlag");

function levelsText(typeList: readonly string[], keys: string[], tags: string[][]): string {
  return typeList
    .map((type, i) => {
      const levelTags = tags[i] ?? [];
      return `${type}/${keys[i] ?? "*"}${levelTags.length > 0 ? `;${levelTags.join(",")}` : ""}`;
    })
    .join(":");
}

const resource = types.chain((typeList) =>
  fc
    .tuple(
      fc.array(key, { minLength: typeList.length, maxLength: typeList.length }),
      fc.array(fc.array(tag, { maxLength: 2 }), { minLength: typeList.length, maxLength: typeList.length }),
    )
    .map(([keys, tags]) => levelsText(typeList, keys, tags)),
);
const specifier = types.chain((typeList) =>
  fc
    .tuple(
      fc.array(keyPattern, { minLength: typeList.length, maxLength: typeList.length }),
      fc.array(fc.array(tag, { maxLength: 1 }), { minLength: typeList.length, maxLength: typeList.length }),
    )
    .map(([keys, tags]) => levelsText(typeList, keys, tags)),
);
const statement: fc.Arbitrary<Statement> = fc
  .record({
    effect: fc.constantFrom<"allow" | "deny">("allow", "deny"),
    negateResources: fc.boolean(),
    specifiers: fc.array(specifier, { minLength: 1, maxLength: 3 }),
    negateActions: fc.boolean(),
    actions: fc.array(actionPattern, { minLength: 1, maxLength: 3 }),
  })
  .map(({ effect, negateResources, specifiers, negateActions, actions }) => ({
    effect,
    ...(negateResources ? { notResources: specifiers } : { resources: specifiers }),
    ...(negateActions ? { notActions: actions } : { actions }),
  }));

describe("evaluation properties", () => {
  test("property: a deny for a resource always beats any allow", PROPERTY, () => {
    fc.assert(
      fc.property(
        fc.array(statement, { maxLength: 6 }),
        resource,
        action,
        fc.nat(),
        (others, res, act, at) => {
          // The concrete resource, read as a specifier, matches itself: its keys hold no "*".
          const deny: Statement = { effect: "deny", resources: [res], actions: [act] };
          const everything: Statement = { effect: "allow", notResources: ["acct"], actions: ["*"] };
          const statements = [...others, everything];
          statements.splice(at % (statements.length + 1), 0, deny);
          const policy = compilePolicy(statements);
          expect(policy.allows({ resource: res, action: act })).toBe(false);
          expect(policy.explain({ resource: res, action: act }).effect).toBe("deny");
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("property: statement order does not change any decision", PROPERTY, () => {
    fc.assert(
      fc.property(
        fc.array(statement, { minLength: 1, maxLength: 6 }),
        resource,
        action,
        (statements, res, act) => {
          const access = { resource: res, action: act };
          const forward = compilePolicy(statements);
          const backward = compilePolicy([...statements].reverse());
          expect(backward.allows(access)).toBe(forward.allows(access));
          expect(forward.explain(access).allowed).toBe(forward.allows(access));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test(
    "property: allowed exactly when some allow applies and no deny does (reference evaluation)",
    PROPERTY,
    () => {
      fc.assert(
        fc.property(
          fc.array(statement, { minLength: 1, maxLength: 4 }),
          resource,
          action,
          (statements, res, act) => {
            const policy = compilePolicy(statements);
            const applies = (s: Statement): boolean => {
              const single = compilePolicy([{ ...s, effect: "allow" }]);
              return single.allows({ resource: res, action: act });
            };
            const denied = statements.some((s) => s.effect === "deny" && applies(s));
            const granted = statements.some((s) => s.effect !== "deny" && applies(s));
            expect(policy.allows({ resource: res, action: act })).toBe(!denied && granted);
          },
        ),
        { numRuns: 500 },
      );
    },
  );
});
