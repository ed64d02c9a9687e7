import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { restFixture, restFixtureNames, sampleContexts } from "./fixtures/corpus";
import { normaliseEntry } from "./normalise";
import { entrySchema } from "./schema";

// The options ingest gives Fastify's Ajv (services/ingest/src/app.ts), on top of Ajv's strict defaults.
const ajv = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true });
const validate = ajv.compile(entrySchema);

function expectSchemaAccepts(input: unknown): void {
  const copy = structuredClone(input);
  const valid = validate(input);
  expect(valid, JSON.stringify(validate.errors)).toBe(true);
  expect(input).toStrictEqual(copy); // validation must not change the entry
}

test("the framework's sample contexts are there to validate (required in CI)", (context) => {
  expectCorpus(context, "the schema corpus tests of @hookwire/entries");
  expect(sampleContexts().size).toBeGreaterThan(0);
});

describe("entrySchema", () => {
  test("compiles under Ajv's strict mode", () => {
    expect(() => new Ajv({ strict: true }).compile(entrySchema)).not.toThrow();
  });

  test.runIf(corpusDir !== undefined)("accepts every sample context", () => {
    for (const sample of sampleContexts().values()) expectSchemaAccepts(sample);
  });

  test.each(restFixtureNames())("accepts the REST fixture %s, and what it converts to", (name) => {
    const source = restFixture(name);
    expectSchemaAccepts(source);
    expectSchemaAccepts(normaliseEntry(source).entry);
  });

  test("refuses what is no entry of either shape", () => {
    for (const input of [
      {},
      { kind: "flag" },
      { timestamp: 1 },
      { kind: "", date: 1 },
      { kind: "flag", timestamp: "now" },
      [],
    ]) {
      expect(validate(input), JSON.stringify(input)).toBe(false);
    }
  });

  test("accepts whatever normaliseEntry accepts (it is the looser of the two)", () => {
    const field = fc.constantFrom(
      "_id",
      "kind",
      "timestamp",
      "date",
      "title",
      "details",
      "description",
      "tags",
      "project",
      "member",
      "accesses",
      "target",
      "verbKind",
      "comment",
    );
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(null, "", "x", 0, 1.5, -1, [], ["a"], [1], {}, { key: "" }, { milliseconds: 1 }),
      fc.constantFrom({ resources: ["proj/a"] }, [{ action: "a", resource: "r" }], {
        key: "p",
        environment: null,
        tags: null,
      }),
    );
    const input = fc
      .tuple(
        fc.constantFrom({ kind: "flag", timestamp: 1 }, { kind: "flag", date: 1 }),
        fc.array(fc.tuple(field, value), { maxLength: 4 }),
      )
      .map(([base, changes]) => Object.assign({ ...base }, Object.fromEntries(changes)));
    let accepted = 0;
    fc.assert(
      fc.property(input, (entry) => {
        if (normaliseEntry(entry).entry === undefined) return;
        accepted++;
        expectSchemaAccepts(entry);
      }),
      { numRuns: 3_000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });
});
