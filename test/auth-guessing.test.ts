import { describe, expect, test } from "vitest";
import { testScope } from "./support/scope";

// Guessing API keys costs: an address that failed to authenticate 20 times in a minute is answered
// 429 with Retry-After, whatever key it sends next, on the API and on the queue view alike.

const scope = testScope();
const GUESSES = 20;

describe("failed authentication", () => {
  test("a storm of wrong keys from one address is answered 429 after 20, other addresses unaffected", async () => {
    const sys = await scope.system({ label: "guess", worker: false });
    const from = (remoteAddress: string, authorization?: string) =>
      sys.app.inject({
        method: "GET",
        url: "/v1/hooks",
        remoteAddress,
        headers: authorization === undefined ? {} : { authorization },
      });
    const statuses: number[] = [];
    for (let i = 0; i < GUESSES; i++) statuses.push((await from("10.1.1.1", `Bearer guess-${i}`)).statusCode);
    expect(statuses).toEqual(Array(GUESSES).fill(401));
    const refused = await from("10.1.1.1", "Bearer guess-next");
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe("API_ERR_RATE_LIMITED");
    // Refused before the key is looked at: even the right one, so guessing cannot go on.
    expect((await from("10.1.1.1", `Bearer ${sys.apiKey}`)).statusCode).toBe(429);
    // Another address is not held back.
    expect((await from("10.1.1.2", `Bearer ${sys.apiKey}`)).statusCode).toBe(200);
  });

  test("wrong Basic credentials on the queue view count the same way", async () => {
    const sys = await scope.system({ label: "guess-queues", worker: false });
    const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
    const guess = (password: string) =>
      sys.app.inject({
        method: "GET",
        url: "/admin/queues",
        remoteAddress: "10.2.2.2",
        headers: { authorization: basic(password) },
      });
    for (let i = 0; i < GUESSES; i++) expect((await guess(`guess-${i}`)).statusCode).toBe(401);
    const refused = await guess("one-more");
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
  });
});
