import { describe, expect, test } from "vitest";
import { decodeClaim, decodeEntryTrace, encodeClaim, encodeTrace } from "./request-trace";

describe("request traces", () => {
  test("each entry's outcomes come back hook by hook, with the statement and the reasons", () => {
    const raw = encodeTrace({
      at: 1_764_115_200_000,
      hooks: ["hk_a", "hk_b", "hk_c", "hk_d"],
      entries: {
        e1: [
          { outcome: "queued" },
          { outcome: "filtered", statement: 2 },
          { outcome: "filtered", statement: null },
          { outcome: "render_failed", reason: "line 3: unclosed {{#if}}" },
        ],
        e2: [
          { outcome: "skipped", reason: "the template rendered an empty body" },
          { outcome: "queued" },
          { outcome: "queued" },
          { outcome: "queued" },
        ],
      },
    });
    expect(decodeEntryTrace(raw, "e1")).toEqual({
      at: 1_764_115_200_000,
      hooks: [
        { hookId: "hk_a", traced: { outcome: "queued" } },
        { hookId: "hk_b", traced: { outcome: "filtered", statement: 2 } },
        { hookId: "hk_c", traced: { outcome: "filtered", statement: null } },
        { hookId: "hk_d", traced: { outcome: "render_failed", reason: "line 3: unclosed {{#if}}" } },
      ],
    });
    expect(decodeEntryTrace(raw, "e2")?.hooks[0]).toEqual({
      hookId: "hk_a",
      traced: { outcome: "skipped", reason: "the template rendered an empty body" },
    });
    expect(decodeEntryTrace(raw, "e3")).toBeUndefined();
  });

  test("a code per hook: 40 hooks cost an entry about 100 bytes", () => {
    const hooks = Array.from({ length: 40 }, (_, i) => `hk_${String(i).padStart(20, "0")}`);
    const one = encodeTrace({
      at: 0,
      hooks,
      entries: { e: hooks.map(() => ({ outcome: "filtered", statement: null })) },
    });
    const hundred = encodeTrace({
      at: 0,
      hooks,
      entries: Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [
          `entry-${i}`,
          hooks.map(() => ({ outcome: "queued" as const })),
        ]),
      ),
    });
    // The hooks are listed once per request: each further entry adds its codes only.
    expect((hundred.length - one.length) / 99).toBeLessThan(120);
  });

  test("a value that is not a trace reads as none", () => {
    expect(decodeEntryTrace("1", "e1")).toBeUndefined();
    expect(decodeEntryTrace("{", "e1")).toBeUndefined();
  });
});

describe("an entry's claim", () => {
  test("reads back the request and its acceptance time; a claim kept before times were reads as the request alone", () => {
    expect(decodeClaim(encodeClaim("3f0c2a4e-9d1b-4c6e-8a7f-1b2c3d4e5f60", 1_796_170_320_835))).toEqual({
      request: "3f0c2a4e-9d1b-4c6e-8a7f-1b2c3d4e5f60",
      acceptedAt: 1_796_170_320_835,
    });
    expect(decodeClaim("3f0c2a4e-9d1b-4c6e-8a7f-1b2c3d4e5f60")).toEqual({
      request: "3f0c2a4e-9d1b-4c6e-8a7f-1b2c3d4e5f60",
    });
    expect(decodeClaim("1")).toEqual({ request: "1" });
  });

  test("a time that is not whole digits after the @ is no acceptance time", () => {
    for (const claim of ["req@", "req@1e3", "req@-4", "req@12.5", "req@ 7"])
      expect(decodeClaim(claim)).toEqual({ request: claim });
  });
});
