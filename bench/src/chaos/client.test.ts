import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./client";

describe("the chaos client's retry delay", () => {
  it("backs off from 200 ms, doubling, to at most 2 s", () => {
    expect([1, 2, 3, 4, 5, 9].map((tries) => retryDelayMs(tries, undefined))).toEqual([
      200, 400, 800, 1600, 2000, 2000,
    ]);
  });

  it("honours Retry-After in seconds or as a date, capped at 10 s", () => {
    expect(retryDelayMs(1, "2")).toBe(2000);
    expect(retryDelayMs(1, "3600")).toBe(10_000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryDelayMs(1, "Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(retryDelayMs(3, "not a date")).toBe(800);
  });
});
