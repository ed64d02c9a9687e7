/**
 * Every route of the API, fed arbitrary input: JSON bodies of any shape, odd content types and
 * headers, path parameters of any text. With Redis up, no answer is a 5xx, every 4xx is in the one
 * envelope `{"error":{"code","message"}}`, and the process answers /healthz and /readyz after.
 * The routes are read from the API's own OpenAPI document, so a route added later is covered.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { testScope } from "./support/scope";

const scope = testScope();

/** Routes outside the OpenAPI document: the service's own and the dashboard's. */
const OTHER_ROUTES: [string, string][] = [
  ["GET", "/healthz"],
  ["GET", "/readyz"],
  ["GET", "/metrics"],
  ["GET", "/"],
  ["GET", "/admin/queues"],
];

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A path parameter: any text, percent-encoded as a client would send it. */
const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("hk_missing", "..", "%", "x".repeat(300), "a.b.c", "__proto__"),
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  "",
);

/** A body as sent: JSON of any shape, or bytes that are not JSON. */
const body = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("{", "[1,", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "null", ""),
);

const query = fc.dictionary(
  fc.constantFrom("limit", "cursor", "hookId", "status", "since", "dryRun", "x"),
  fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String)),
  { maxKeys: 3 },
);

describe("every route under arbitrary input", () => {
  test("answers below 500, errors in the one envelope, and the process stays healthy", async () => {
    const sys = await scope.system({ label: "property", worker: false });
    const spec = (await sys.app.inject({ method: "GET", url: "/docs/json" })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes: [string, string][] = [...OTHER_ROUTES];
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const method of Object.keys(methods)) routes.push([method.toUpperCase(), path]);
    }
    expect(routes.length).toBeGreaterThanOrEqual(25);

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        body,
        contentType,
        query,
        fc.boolean(),
        fc.ipV4(),
        async ([method, template], segments, payload, type, params, authorised, address) => {
          let i = 0;
          const path = template.replace(/\{[^}]+\}|:[A-Za-z]+/g, () =>
            encodeURIComponent(segments[i++] ?? ""),
          );
          const search = new URLSearchParams(params).toString();
          const headers: Record<string, string> = {};
          if (authorised) headers.authorization = `Bearer ${sys.apiKey}`;
          const sendsBody = METHODS_WITH_BODY.has(method);
          if (sendsBody && type !== "") headers["content-type"] = type;
          const answer = await sys.app.inject({
            // Unauthorised tries from addresses of their own: past 20 a minute, one address is
            // answered 429 before anything else (tested in auth-guessing.test.ts).
            remoteAddress: authorised ? "127.0.0.1" : address,
            method: method as "GET",
            url: `${path}${search === "" ? "" : `?${search}`}`,
            headers,
            ...(sendsBody ? { payload } : {}),
          });
          const where = `${method} ${path}?${search} (${type}): ${answer.statusCode} ${answer.body.slice(0, 300)}`;
          expect(answer.statusCode, where).toBeLessThan(500);
          if (answer.statusCode >= 400) {
            const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code, where).toBe("string");
            expect(typeof parsed.error?.message, where).toBe("string");
          }
        },
      ),
      { numRuns: 1_000, seed: 20261201 },
    );

    expect((await sys.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await sys.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  }, 60_000);
});
