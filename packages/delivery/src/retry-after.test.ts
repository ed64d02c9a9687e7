import { expect, test } from "vitest";
import { parseRetryAfter } from "./retry-after";

const now = Date.UTC(1994, 10, 6, 8, 49, 0); // 1994-11-06T08:49:00Z

test.each([
  [undefined, undefined],
  ["", undefined],
  ["0", 0],
  ["120", 120_000],
  ["  7 ", 7_000],
  ["-5", undefined],
  ["1.5", undefined],
  ["soon", undefined],
  ["2024", 2_024_000], // digits are seconds, never a year
  ["Sun, 06 Nov 1994 08:49:37 GMT", 37_000], // IMF-fixdate
  ["Sunday, 06-Nov-94 08:49:37 GMT", 37_000], // obsolete RFC 850
  ["Sun Nov  6 08:49:37 1994", 37_000], // asctime, read as UTC
  ["Sun, 06 Nov 1994 08:48:00 GMT", 0], // in the past
  ["Sun, 06 Nov 1994 08:49:37 PST", undefined],
  ["Sun, 06 Nov 1994 08:49:37 GMT; extra", undefined],
  ["9".repeat(65), undefined],
] as const)("Retry-After %j → %j ms", (value, expected) => {
  expect(parseRetryAfter(value, now)).toBe(expected);
});
