import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Glob, type StepMeter } from "./glob";

// Property tests run thousands of cases: give them room on a busy CI machine.
const PROPERTY = { timeout: 60_000 };

/** Reference matcher: the textbook dynamic programme, obviously right and quadratic. */
function reference(pattern: string, text: string): boolean {
  let row = new Array<boolean>(text.length + 1).fill(false);
  row[0] = true;
  for (const p of pattern) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    if (p === "*") {
      let seen = false;
      for (let j = 0; j <= text.length; j++) {
        seen ||= row[j]!;
        next[j] = seen;
      }
    } else {
      for (let j = 1; j <= text.length; j++) next[j] = row[j - 1]! && text[j - 1] === p;
    }
    row = next;
  }
  return row[text.length]!;
}

function stepsFor(pattern: string, text: string): { matched: boolean; steps: number } {
  const meter: StepMeter = { steps: 0 };
  const matched = new Glob(pattern).match(text, meter);
  return { matched, steps: meter.steps };
}

describe("Glob", () => {
  test.each([
    ["*", "", true],
    ["*", "anything at all", true],
    ["**", "x", true],
    ["demo-flag", "demo-flag", true],
    ["demo-flag", "Demo-flag", false], // keys are case-sensitive
    ["demo-flag", "demo-flag2", false],
    ["update*", "updateOn", true],
    ["update*", "update", true],
    ["update*", "createFlag", false],
    ["*Flag", "createFlag", true],
    ["*Flag", "createFlagLink", false],
    ["a*c", "abc", true],
    ["a*c", "ac", true],
    ["a*c", "ab", false],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "acb", false],
    ["my.flag", "my.flag", true],
    ["my.flag", "myXflag", false], // "." is a dot, not "any character"
    ["[ab]", "a", false], // no character classes
    ["{a,b}", "a", false], // no braces
    ["?", "a", false], // "?" is literal
    ["a*a*a", "aa", false],
    ["a*a*a", "aaa", true],
  ])("%j against %j → %s", (pattern, text, expected) => {
    expect(new Glob(pattern).match(text)).toBe(expected);
  });

  test("agrees with the reference matcher on arbitrary patterns and texts", PROPERTY, () => {
    const alphabet = fc.constantFrom("a", "b", "*");
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 16 }),
        (pattern, text) => {
          expect(new Glob(pattern).match(text)).toBe(reference(pattern, text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("the pathological pattern decides in a handful of steps", () => {
    const { matched, steps } = stepsFor("a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(10_000));
    expect(matched).toBe(false);
    // A backtracking matcher needs on the order of 10 000^10 steps here; we need a few.
    expect(steps).toBeLessThan(100);
  });

  test("a pattern whose suffix matches still reads the text only a bounded number of times", () => {
    // Ends right, so every middle piece must be searched: the cheap rejections do not apply.
    const text = `${"a".repeat(10_000)}b`;
    const pattern = "a*aab*aaab*aaaab*b";
    const { matched, steps } = stepsFor(pattern, text);
    expect(matched).toBe(false);
    expect(steps).toBeLessThanOrEqual(3 * (text.length + pattern.length));
  });

  test("step count stays linear in text plus pattern for arbitrary inputs", PROPERTY, () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "b", "*"), maxLength: 40 }),
        fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 400 }),
        (pattern, text) => {
          const { steps } = stepsFor(pattern, text);
          expect(steps).toBeLessThanOrEqual(3 * (text.length + pattern.length) + 3);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("reports whether it is a wildcard and whether it matches everything", () => {
    expect(new Glob("*").matchesEverything).toBe(true);
    expect(new Glob("a*").matchesEverything).toBe(false);
    expect(new Glob("a*").isWildcard).toBe(true);
    expect(new Glob("a").isWildcard).toBe(false);
  });
});
