import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { median, pairedQuotients, percentileOfSorted, perSecond, summariseLatencies } from "./statistics";

describe("median", () => {
  test("odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("percentileOfSorted", () => {
  test("nearest rank: p99 of 1..100 is 99, p50 is 50, p100 the largest", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOfSorted(values, 50)).toBe(50);
    expect(percentileOfSorted(values, 95)).toBe(95);
    expect(percentileOfSorted(values, 99)).toBe(99);
    expect(percentileOfSorted(values, 100)).toBe(100);
    expect(percentileOfSorted([7], 1)).toBe(7);
  });

  test("at least p percent of the values are at or below it, and it is one of them", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          const at = percentileOfSorted(sorted, p);
          expect(sorted).toContain(at);
          expect(sorted.filter((v) => v <= at).length / sorted.length).toBeGreaterThanOrEqual(p / 100);
        },
      ),
    );
  });

  test("refuses a percentile outside (0, 100]", () => {
    expect(() => percentileOfSorted([1], 0)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
  });
});

test("summariseLatencies sorts numerically", () => {
  const summary = summariseLatencies([10, 9, 100, 2]);
  expect(summary).toEqual({ count: 4, p50Ms: 9, p95Ms: 100, p99Ms: 100, maxMs: 100 });
});

test("perSecond", () => {
  expect(perSecond(500, 250)).toBe(2000);
  expect(perSecond(5, 0)).toBe(0);
});

describe("pairedQuotients", () => {
  test("B over A round by round: the median, the range and the rounds B was better in", () => {
    const a = [100, 200, 100, 50];
    const b = [90, 220, 80, 50];
    const result = pairedQuotients(a, b, "lower");
    // Quotients 0.9, 1.1, 0.8 and 1: B lower in two rounds, equal in one.
    expect(result.median).toBeCloseTo(0.95, 12);
    expect(result).toMatchObject({ low: 0.8, better: 2, rounds: 4 });
    expect(result.high).toBeCloseTo(1.1, 12);
    expect(pairedQuotients(a, b, "higher").better).toBe(1);
  });

  test("a round without both values, or with A at zero, is left out", () => {
    const result = pairedQuotients([100, 0, Number.NaN, 10], [50, 5, 5], "lower");
    expect(result).toEqual({ median: 0.5, low: 0.5, high: 0.5, better: 1, rounds: 1 });
    expect(pairedQuotients([], [], "higher").median).toBeNaN();
  });
});
