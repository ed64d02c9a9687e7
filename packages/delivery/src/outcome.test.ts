import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { AttemptResult } from "./attempt";
import type { DeliveryErrorCode } from "./errors";
import { classifyAttempt } from "./outcome";

const schedule = [5, 300, 1800];
const at = (result: Partial<AttemptResult>): AttemptResult => ({ startedAt: 0, durationMs: 1, ...result });
const context = { attempt: 1, scheduleSeconds: schedule, random: () => 0 };

describe("by status", () => {
  test.each([
    [200, { verb: "done" }],
    [201, { verb: "done" }],
    [204, { verb: "done" }],
    [299, { verb: "done" }],
    [301, { verb: "give_up", reason: "HTTP 301", disableHook: false }],
    [302, { verb: "give_up", reason: "HTTP 302", disableHook: false }],
    [307, { verb: "give_up", reason: "HTTP 307", disableHook: false }],
    [400, { verb: "give_up", reason: "HTTP 400", disableHook: false }],
    [401, { verb: "give_up", reason: "HTTP 401", disableHook: false }],
    [403, { verb: "give_up", reason: "HTTP 403", disableHook: false }],
    [404, { verb: "give_up", reason: "HTTP 404", disableHook: false }],
    [408, { verb: "retry", delayMs: 5_000, reason: "HTTP 408" }],
    [410, { verb: "give_up", reason: "HTTP 410: endpoint gone", disableHook: true }],
    [413, { verb: "give_up", reason: "HTTP 413", disableHook: false }],
    [422, { verb: "give_up", reason: "HTTP 422", disableHook: false }],
    [425, { verb: "retry", delayMs: 5_000, reason: "HTTP 425" }],
    [429, { verb: "retry", delayMs: 5_000, reason: "HTTP 429" }],
    [500, { verb: "retry", delayMs: 5_000, reason: "HTTP 500" }],
    [502, { verb: "retry", delayMs: 5_000, reason: "HTTP 502" }],
    [503, { verb: "retry", delayMs: 5_000, reason: "HTTP 503" }],
    [599, { verb: "retry", delayMs: 5_000, reason: "HTTP 599" }],
    [199, { verb: "give_up", reason: "HTTP 199", disableHook: false }],
    [600, { verb: "give_up", reason: "HTTP 600", disableHook: false }],
  ])("%i", (status, outcome) => {
    expect(classifyAttempt(at({ status }), context)).toEqual(outcome);
  });

  test("a status decides even when an error code came with it (3xx carries DELIVERY_ERR_REDIRECT)", () => {
    expect(classifyAttempt(at({ status: 302, errorCode: "DELIVERY_ERR_REDIRECT" }), context).verb).toBe(
      "give_up",
    );
  });
});

describe("by error code", () => {
  test.each([
    ["DELIVERY_ERR_TIMEOUT", "retry"],
    ["DELIVERY_ERR_CONNECT", "retry"],
    ["DELIVERY_ERR_CONNECTION_LOST", "retry"],
    ["DELIVERY_ERR_DNS", "retry"],
    ["DELIVERY_ERR_TLS", "retry"],
    ["DELIVERY_ERR_BAD_RESPONSE", "retry"],
    ["DELIVERY_ERR_CLOSED", "retry"],
    ["DELIVERY_ERR_UNEXPECTED", "retry"],
    ["DELIVERY_ERR_SSRF_BLOCKED", "give_up"],
    ["DELIVERY_ERR_BAD_URL", "give_up"],
    ["DELIVERY_ERR_BAD_REQUEST", "give_up"],
    ["DELIVERY_ERR_REDIRECT", "give_up"],
    ["DELIVERY_ERR_BAD_SECRET", "give_up"],
  ] as [DeliveryErrorCode, string][])("%s → %s", (errorCode, verb) => {
    const outcome = classifyAttempt(at({ errorCode }), context);
    expect(outcome.verb).toBe(verb);
    expect(outcome).toMatchObject(
      verb === "retry" ? { reason: errorCode } : { reason: errorCode, disableHook: false },
    );
  });

  test("neither status nor code retries rather than lose the delivery", () => {
    expect(classifyAttempt(at({}), context)).toMatchObject({ verb: "retry", delayMs: 5_000 });
  });
});

describe("schedule, Retry-After and jitter", () => {
  test.each([
    [1, { verb: "retry", delayMs: 5_000 }],
    [2, { verb: "retry", delayMs: 300_000 }],
    [3, { verb: "retry", delayMs: 1_800_000 }],
    [4, { verb: "give_up", reason: "HTTP 503 on attempt 4; retry schedule exhausted", disableHook: false }],
  ])("attempt %i of a 3-step schedule", (attempt, outcome) => {
    expect(classifyAttempt(at({ status: 503 }), { ...context, attempt })).toMatchObject(outcome);
  });

  test("an empty schedule never retries", () => {
    expect(classifyAttempt(at({ status: 503 }), { ...context, scheduleSeconds: [] }).verb).toBe("give_up");
  });

  test.each([
    ["shorter than the schedule: the schedule wins", 1_000, undefined, 5_000],
    ["longer: a floor", 60_000, undefined, 60_000],
    ["longer than the default 1 h cap", 7_200_000, undefined, 3_600_000],
    ["longer than a custom cap", 60_000, 30_000, 30_000],
    ["a cap below the schedule never brings the retry earlier", 60_000, 1_000, 5_000],
  ])("Retry-After %s", (_name, retryAfterMs, retryAfterCapMs, delayMs) => {
    const ctx = retryAfterCapMs === undefined ? context : { ...context, retryAfterCapMs };
    expect(classifyAttempt(at({ status: 429, retryAfterMs }), ctx)).toMatchObject({ verb: "retry", delayMs });
  });

  test.each([
    [0, 5_000],
    [0.5, 5_250],
    [0.999_999, 5_499],
  ])("jitter with random() = %f adds up to 10%%: %i ms", (r, delayMs) => {
    expect(classifyAttempt(at({ status: 500 }), { ...context, random: () => r })).toMatchObject({ delayMs });
  });

  test("property: a retry is never earlier than scheduled nor than the capped Retry-After", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(36_000), { minLength: 1, maxLength: 10 }),
        fc.nat(20),
        fc.option(fc.nat(10_000_000), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (scheduleSeconds, index, retryAfterMs, r) => {
          const attempt = index + 1;
          const outcome = classifyAttempt(at({ status: 503, retryAfterMs }), {
            attempt,
            scheduleSeconds,
            random: () => r,
          });
          const scheduled = scheduleSeconds[attempt - 1];
          if (scheduled === undefined) {
            expect(outcome.verb).toBe("give_up");
            return;
          }
          if (outcome.verb !== "retry") throw new Error("expected a retry");
          const floor = Math.max(scheduled * 1000, Math.min(retryAfterMs ?? 0, 3_600_000));
          expect(outcome.delayMs).toBeGreaterThanOrEqual(floor);
          expect(outcome.delayMs).toBeLessThanOrEqual(floor * 1.1);
        },
      ),
    );
  });
});
