import { expect, test } from "vitest";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "./retry-schedule";

test("the default schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; frozen", () => {
  expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
  expect(Object.isFrozen(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(true);
});

test.each([
  ["5,300,1800", [5, 300, 1800]],
  [" 1 , 2,3 ", [1, 2, 3]],
  ["0", [0]],
  ["", []],
  ["   ", []],
])("%j parses to %j", (text, expected) => {
  expect(parseRetrySchedule(text)).toEqual(expected);
});

test.each([
  ["5,,300", /item 2 \(""\)/],
  ["5,1.5", /item 2 \("1.5"\) must be a whole number of seconds/],
  ["-1", /item 1 \("-1"\)/],
  ["5m", /item 1 \("5m"\)/],
  ["604801", /from 0 to 604800 \(7 days\)/],
  [Array.from({ length: 101 }, () => "1").join(","), /has 101 delays; at most 100/],
])("%j is refused with a message naming the bad item", (text, message) => {
  expect(() => parseRetrySchedule(text)).toThrow(message);
  expect(() => parseRetrySchedule(text)).toThrow(
    expect.objectContaining({ code: "DELIVERY_ERR_BAD_SCHEDULE" }),
  );
});
