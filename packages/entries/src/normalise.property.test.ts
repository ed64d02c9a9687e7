import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isJsonPointer } from "./issue-list";
import { normaliseBody, normaliseEntry } from "./normalise";
import type { EntryIssue } from "./types";

/** The value a JSON pointer names in `document`, or `missing` (RFC 6901 evaluation). */
const missing = Symbol("missing");
function resolve(document: unknown, pointer: string): unknown {
  if (pointer === "") return document;
  let value: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(value) && /^(?:0|[1-9]\d*)$/.test(token) && Number(token) < value.length)
      value = value[Number(token)];
    else if (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.hasOwn(value, token)
    ) {
      value = (value as Record<string, unknown>)[token];
    } else return missing;
  }
  return value;
}

/** Every issue names a place in the body: the value itself, or (for a missing field) its parent. */
function expectPointersInto(body: unknown, issues: readonly EntryIssue[]): void {
  for (const issue of issues) {
    expect(isJsonPointer(issue.pointer), issue.pointer).toBe(true);
    const parent = issue.pointer.slice(0, Math.max(0, issue.pointer.lastIndexOf("/")));
    const here = resolve(body, issue.pointer);
    expect(here !== missing || resolve(body, parent) !== missing, `${issue.pointer}: ${issue.message}`).toBe(
      true,
    );
    if (issue.code !== "ENTRIES_ISSUE_REQUIRED" && issue.code !== "ENTRIES_WARN_DROPPED_KEY") {
      expect(here, `${issue.pointer} should name a value: ${issue.message}`).not.toBe(missing);
    }
  }
}

const key = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/);
const tag = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,9}$/);
const tags = fc.array(tag, { maxLength: 3 });
const ms = fc.integer({ min: 0, max: 253_402_300_799_999 });
const markdown = fc.string({
  unit: fc.constantFrom(..."ab <>&`*~[]()\\#-\n".split(""), "](", "**"),
  maxLength: 40,
});
/** Fields normalisation checks, and the keys it drops: extra fields are anything else. */
const checked = new Set(
  "_id kind timestamp date verbKind key name titleVerb comment description shortDescription title details project member tags accesses target __proto__ constructor prototype".split(
    " ",
  ),
);
const extraFields = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => !checked.has(k)),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 4 },
);

/** Valid shape-1 entries, in the many forms accepted (partial timestamps, Markdown titles, nulls). */
const contextEntry = fc
  .record(
    {
      _id: fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/),
      kind: fc.constantFrom("flag", "project", "environment", "member", "segment", "metric", "webhook"),
      timestamp: fc.oneof(
        ms,
        ms.map((milliseconds) => ({ milliseconds })),
        ms.map((milliseconds) => ({
          milliseconds,
          seconds: Math.floor(milliseconds / 1000),
          rfc3339: "r",
          simple: "s",
        })),
      ),
      verbKind: fc.string({ maxLength: 12 }),
      key,
      name: fc.string({ maxLength: 20 }),
      title: fc.oneof(
        markdown,
        fc.record({ markdown }),
        fc.record({ plainText: markdown, markdown, html: markdown }),
      ),
      details: fc.oneof(
        fc.constant(null),
        markdown,
        fc.record({ plainText: markdown }, { requiredKeys: [] }),
      ),
      tags: fc.oneof(tags, fc.constant(null)),
      project: fc.option(
        fc.record({
          key: fc.oneof(key, fc.constant("")),
          name: fc.string({ maxLength: 10 }),
          tags: fc.oneof(tags, fc.constant(null)),
          environment: fc.option(
            fc.record({ key, tags: fc.oneof(tags, fc.constant(null)) }, { requiredKeys: ["key"] }),
          ),
        }),
      ),
      member: fc.option(
        fc.record(
          {
            email: fc.emailAddress(),
            firstName: fc.string({ maxLength: 6 }),
            lastName: fc.string({ maxLength: 6 }),
          },
          { requiredKeys: [] },
        ),
      ),
      accesses: fc.array(
        fc.record({
          action: fc.string({ minLength: 1, maxLength: 8 }),
          resource: fc.string({ minLength: 1 }),
        }),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
    },
    { requiredKeys: ["kind", "timestamp"] },
  )
  .chain((entry) => extraFields.map((extra) => ({ ...extra, ...entry })));

/** Valid REST entries whose target resource is built from known parts, so the conversion can be checked. */
const restEntry = fc
  .record({
    project: fc.record({ key, tags }),
    environment: fc.option(fc.record({ key, tags })),
    flag: fc.record({ key, tags }),
    date: ms,
    action: fc.stringMatching(/^[a-z][A-Za-z]{0,12}$/),
    title: markdown,
    description: fc.option(markdown),
    where: fc.constantFrom("target", "accesses", "both"),
  })
  .map((parts) => {
    const level = (type: string, part: { key: string; tags: string[] }) =>
      `${type}/${part.key}${part.tags.length > 0 ? `;${part.tags.join(",")}` : ""}`;
    const resource = [
      level("proj", parts.project),
      ...(parts.environment ? [level("env", parts.environment)] : []),
      level("flag", parts.flag),
    ].join(":");
    const entry: Record<string, unknown> = { kind: "flag", date: parts.date, title: parts.title };
    if (parts.description !== null) entry.description = parts.description;
    if (parts.where !== "accesses") entry.target = { name: "x", resources: [resource] };
    if (parts.where !== "target") entry.accesses = [{ action: parts.action, resource }];
    return { entry, parts };
  });

describe("properties of normalisation", () => {
  test("never throws on any JSON value, and every issue points into the body", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 4 })), (body) => {
        const result = normaliseBody(body);
        expectPointersInto(body, result.issues);
        expectPointersInto(body, result.warnings);
        if (result.issues.length === 0) expect(result.entries.length).toBeGreaterThan(0);
      }),
      { numRuns: 3_000 },
    );
  });

  test("never throws on near-valid entries with any field replaced, and points at what is wrong", () => {
    const mutated = fc
      .tuple(
        contextEntry,
        fc.constantFrom("_id", "kind", "timestamp", "title", "tags", "project", "member", "accesses"),
        fc.jsonValue({ maxDepth: 3 }),
      )
      .map(([entry, field, value]) => ({ ...entry, [field]: value }));
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 3 }), (body) => {
        const result = normaliseBody(body);
        expectPointersInto(body, result.issues);
        const bad = new Set(result.issues.map((issue) => Number(issue.pointer.split("/")[1])));
        expect(result.entries).toHaveLength(body.length - bad.size);
      }),
      { numRuns: 2_000 },
    );
  });

  test("accepts every valid template context, and the result normalises to itself", () => {
    fc.assert(
      fc.property(contextEntry, (input) => {
        const first = normaliseEntry(input);
        expect(first.issues).toEqual([]);
        const entry = first.entry!;
        expect(Array.isArray(entry.tags)).toBe(true);
        expect(typeof entry.timestamp.rfc3339).toBe("string");
        expect(entry.kind).toBe(input.kind);
        const again = normaliseEntry(entry);
        expect(again.entry).toStrictEqual(entry);
        expect(again.idGenerated).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });

  test("converts every REST entry, reading project, environment, key and tags from its resource", () => {
    fc.assert(
      fc.property(restEntry, ({ entry, parts }) => {
        const result = normaliseEntry(entry);
        expect(result.issues).toEqual([]);
        expect(result.shape).toBe("rest");
        expect(result.entry).toMatchObject({
          key: parts.flag.key,
          tags: parts.flag.tags,
          project: {
            key: parts.project.key,
            tags: parts.project.tags,
            environment: { key: parts.environment?.key ?? "", tags: parts.environment?.tags ?? [] },
          },
          timestamp: { milliseconds: parts.date, seconds: Math.floor(parts.date / 1000) },
          title: { markdown: parts.title },
        });
        if (parts.where !== "target") expect(result.entry?.verbKind).toBe(parts.action);
        expect(normaliseEntry(result.entry).entry).toStrictEqual(result.entry);
      }),
      { numRuns: 1_000 },
    );
  });

  test("keys that reach prototypes, anywhere, are dropped and pollute nothing", () => {
    const dangerous = fc.constantFrom("__proto__", "constructor", "prototype");
    // JSON text, since only JSON.parse makes an own "__proto__" key.
    const json: fc.Arbitrary<string> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
        tie("object"),
        fc.array(tie("value"), { maxLength: 3 }).map((items) => `[${items.join(",")}]`),
      ),
      object: fc
        .array(fc.tuple(fc.oneof(dangerous, fc.string({ maxLength: 4 })), tie("value")), { maxLength: 4 })
        .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
    })).value as fc.Arbitrary<string>;
    const entryText = fc
      .tuple(json, dangerous, json)
      .map(
        ([a, danger, b]) =>
          `{"kind":"flag","timestamp":1,"extra":${a},${JSON.stringify(danger)}:${b},"member":${a}}`,
      );
    fc.assert(
      fc.property(entryText, (text) => {
        const body = JSON.parse(text);
        const result = normaliseBody(body);
        expectPointersInto(body, result.warnings);
        expect(result.warnings.length).toBeGreaterThan(0);
        expect(Object.keys(Object.prototype)).toEqual([]);
        const out = JSON.stringify(result.entries);
        for (const word of ['"__proto__":', '"constructor":', '"prototype":'])
          expect(out).not.toContain(word);
      }),
      { numRuns: 1_000 },
    );
  });
});
