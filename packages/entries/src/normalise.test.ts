import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { InvalidEntryError } from "./errors";
import { restFixture, sampleContexts } from "./fixtures/corpus";
import { entryShapeOf, normaliseBody, normaliseEntry, parseEntry } from "./normalise";
import type { Entry, EntryIssue } from "./types";

/** A small valid shape-1 entry; tests change one thing at a time. */
function context(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _id: "5e38bf6706121d8aaf15392a",
    kind: "flag",
    timestamp: {
      milliseconds: 1580777319650,
      seconds: 1580777319,
      rfc3339: "2020-02-04T00:48:39Z",
      simple: "2020-02-04 00:48:39",
    },
    verbKind: "updateOn",
    key: "demo-flag",
    name: "Demo flag",
    tags: [],
    ...overrides,
  };
}

function accepted(input: unknown): Entry {
  const result = normaliseEntry(input);
  expect(result.issues).toEqual([]);
  return result.entry!;
}

function pointersOf(issues: readonly EntryIssue[]): string[] {
  return issues.map((issue) => issue.pointer);
}

/** LaunchDarkly's contexts say "no tags" with null; a normalised entry always says it with []. */
function withEmptyTagLists(sample: Record<string, unknown>): Record<string, unknown> {
  type Scope = { tags?: unknown; environment?: Scope | null };
  const copy = structuredClone(sample) as { tags?: unknown; project?: Scope | null };
  copy.tags ??= [];
  if (copy.project) {
    copy.project.tags ??= [];
    if (copy.project.environment) copy.project.environment.tags ??= [];
  }
  return copy;
}

test("the framework's sample contexts are there to normalise (required in CI)", (context) => {
  expectCorpus(context, "the sample-context tests of @hookwire/entries");
  expect(sampleContexts().size).toBeGreaterThan(0);
});

describe.runIf(corpusDir !== undefined)("the framework's sample contexts", () => {
  const samples = sampleContexts();

  test("are all there", () => {
    expect(samples.size).toBeGreaterThanOrEqual(17);
  });

  test.each([...samples.keys()])("%s normalises to itself (null tag lists become [])", (name) => {
    const sample = samples.get(name)!;
    const result = normaliseEntry(sample);
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.shape).toBe("context");
    expect(result.idGenerated).toBe(false);
    expect(result.entry).toStrictEqual(withEmptyTagLists(sample));
    expect(normaliseEntry(result.entry).entry).toStrictEqual(result.entry);
  });

  test("the input is not modified, and unchanged parts are shared rather than copied", () => {
    const sample = samples.get("flag/toggle.json")!;
    const before = structuredClone(sample);
    const entry = accepted(sample);
    expect(sample).toStrictEqual(before);
    expect(entry).not.toBe(sample);
    expect(entry.timestamp).toBe(sample.timestamp);
    expect(entry.member).toBe(sample.member);
    expect(entry.title).toBe(sample.title);
    expect(entry.project).toBe(sample.project);
    expect(entry._links).toBe(sample._links);
  });
});

describe("shape 1 (template context)", () => {
  test("fills seconds, rfc3339 and simple from milliseconds alone", () => {
    const entry = accepted(context({ timestamp: { milliseconds: 1580777319650 } }));
    expect(entry.timestamp).toEqual({
      milliseconds: 1580777319650,
      seconds: 1580777319,
      rfc3339: "2020-02-04T00:48:39Z",
      simple: "2020-02-04 00:48:39",
    });
  });

  test("takes bare epoch milliseconds as the timestamp", () => {
    expect(accepted(context({ timestamp: 0 })).timestamp).toEqual({
      milliseconds: 0,
      seconds: 0,
      rfc3339: "1970-01-01T00:00:00Z",
      simple: "1970-01-01 00:00:00",
    });
  });

  test("keeps the timestamp forms it was given, even where they disagree", () => {
    const timestamp = {
      milliseconds: 1580779125858,
      seconds: 1580779125,
      rfc3339: "2020-02-04T00:56:18Z",
      simple: "x",
    };
    expect(accepted(context({ timestamp })).timestamp).toBe(timestamp);
  });

  test("renders a Markdown title and fills missing forms of a partial one", () => {
    const fromString = accepted(context({ title: "[Ann](mailto:ann@example.com) turned on `demo`" }));
    expect(fromString.title).toEqual({
      markdown: "[Ann](mailto:ann@example.com) turned on `demo`",
      plainText: "Ann turned on 'demo'",
      html: '<a href="mailto:ann@example.com">Ann</a> turned on <code>demo</code>',
    });
    const partial = accepted(context({ details: { markdown: "**bold**", plainText: "kept as given" } }));
    expect(partial.details).toEqual({
      markdown: "**bold**",
      plainText: "kept as given",
      html: "<strong>bold</strong>",
    });
    const plainOnly = accepted(context({ details: { plainText: "a < b" } }));
    expect(plainOnly.details).toEqual({ plainText: "a < b", markdown: "a < b", html: "a &lt; b" });
  });

  test("adds an empty tag list and a generated id when they are absent", () => {
    const { _id, tags, ...rest } = context();
    const result = normaliseEntry(rest);
    expect(result.entry?.tags).toEqual([]);
    expect(result.entry?._id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.idGenerated).toBe(true);
    expect(normaliseEntry(rest).entry?._id).not.toBe(result.entry?._id);
  });

  test("treats null optional fields as absent", () => {
    const entry = accepted(context({ comment: null, project: null, member: null, title: null, _id: null }));
    expect(entry).not.toHaveProperty("comment");
    expect(entry).not.toHaveProperty("project");
    expect(entry).not.toHaveProperty("member");
    expect(entry).not.toHaveProperty("title");
    expect(entry._id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("keeps every field it does not know, as posted", () => {
    const custom = { nested: { values: [1, "two", null, true] } };
    const entry = accepted(
      context({ customProperties: custom, baseURL: "https://app.example.com", date: "whenever" }),
    );
    expect(entry.customProperties).toBe(custom);
    expect(entry.baseURL).toBe("https://app.example.com");
    expect(entry.date).toBe("whenever");
  });

  test("fills member.displayName and emailLocalPart when absent, and keeps them when given", () => {
    const filled = accepted(
      context({ member: { email: "ann@example.com", firstName: "Ann", lastName: "Lee" } }),
    );
    expect(filled.member).toMatchObject({ displayName: "Ann Lee", emailLocalPart: "ann" });
    const emailOnly = accepted(
      context({ member: { email: "ann@example.com", firstName: "", lastName: "" } }),
    );
    expect(emailOnly.member?.displayName).toBe("ann@example.com");
    const given = { email: "ann@example.com", emailLocalPart: "x", displayName: "The Ann" };
    expect(accepted(context({ member: given })).member).toBe(given);
  });

  test("keeps valid accesses as they are", () => {
    const accesses = [{ action: "updateOn", resource: "proj/default:env/production:flag/demo-flag" }];
    expect(accepted(context({ accesses })).accesses).toBe(accesses);
  });
});

describe("shape 2 (REST audit-log entry)", () => {
  test("is told apart by `date` without `timestamp`", () => {
    expect(entryShapeOf({ date: 1, kind: "flag" })).toBe("rest");
    expect(entryShapeOf({ date: 1, timestamp: 1, kind: "flag" })).toBe("context");
    expect(entryShapeOf({ kind: "flag" })).toBe("context");
    expect(normaliseEntry(restFixture("flag-toggle")).shape).toBe("rest");
  });

  test("a flag toggle converts to the template context the framework would give", () => {
    const source = restFixture("flag-toggle");
    const result = normaliseEntry(source);
    expect(result.issues).toEqual([]);
    expect(result.idGenerated).toBe(false);
    const base = "https://app.launchdarkly.com";
    expect(result.entry).toStrictEqual({
      ...source,
      _links: {
        canonical: { href: `${base}/api/v2/flags/mobile/checkout-redesign`, type: "application/json" },
        parent: { href: `${base}/api/v2/auditlog`, type: "application/json" },
        self: { href: `${base}/api/v2/auditlog/65f1c2a9e4b0a1d2c3f40011`, type: "application/json" },
        site: { href: `${base}/mobile/production/features/checkout-redesign`, type: "text/html" },
        details: { href: `${base}/settings/history/65f1c2a9e4b0a1d2c3f40011/details`, type: "text/html" },
      },
      baseURL: base,
      timestamp: {
        milliseconds: 1710342825123,
        seconds: 1710342825,
        rfc3339: "2024-03-13T15:13:45Z",
        simple: "2024-03-13 15:13:45",
      },
      verbKind: "updateOn",
      key: "checkout-redesign",
      tags: [],
      title: {
        markdown: source.title,
        plainText: "Amara Okafor turned on the flag Checkout redesign in 'Production'",
        html:
          '<a href="mailto:amara.okafor@example.com">Amara Okafor</a> turned on the flag ' +
          '<a href="https://app.launchdarkly.com/mobile/production/features/checkout-redesign">Checkout redesign</a> in <code>Production</code>',
      },
      details: { plainText: "", markdown: "", html: "" },
      project: { key: "mobile", name: "", tags: [], environment: { key: "production", name: "", tags: [] } },
      member: {
        _links: {
          parent: { href: `${base}/api/v2/members`, type: "application/json" },
          self: { href: `${base}/api/v2/members/60d5e1f0a2b3c40011223344`, type: "application/json" },
        },
        _id: "60d5e1f0a2b3c40011223344",
        email: "amara.okafor@example.com",
        firstName: "Amara",
        lastName: "Okafor",
        displayName: "Amara Okafor",
        emailLocalPart: "amara.okafor",
      },
      target: {
        ...(source.target as object),
        _links: {
          canonical: { href: `${base}/api/v2/flags/mobile/checkout-redesign`, type: "application/json" },
          site: { href: `${base}/mobile/production/features/checkout-redesign`, type: "text/html" },
        },
      },
    });
  });

  test("reads project, environment, key and tags, with their tags, out of the resource specifier", () => {
    const entry = accepted(restFixture("flag-tagged-resources"));
    expect(entry.project).toEqual({
      key: "mobile",
      name: "",
      tags: ["ios"],
      environment: { key: "production", name: "", tags: ["critical"] },
    });
    expect(entry.key).toBe("checkout");
    expect(entry.tags).toEqual(["ops", "security"]);
    expect(entry.verbKind).toBe("updateRules");
    expect(entry.accesses).toHaveLength(2);
    expect(entry.details).toEqual({
      markdown: restFixture("flag-tagged-resources").description,
      plainText:
        "Changed the fallthrough from 'control' to 'treatment'\nAdded the rule \n  If 'country' is one of 'NG', 'KE'\n  serve 'treatment'\n",
      html:
        "<ul><li>Changed the fallthrough from <strike><code>control</code></strike> to <code>treatment</code></li>\n" +
        "<li>Added the rule <blockquote><strong>If</strong> <code>country</code> <strong>is one of</strong> <code>NG</code>, " +
        "<code>KE</code><br/><strong>serve</strong> <code>treatment</code></blockquote></li></ul>",
    });
  });

  test("a change to several environments takes the first resource", () => {
    const entry = accepted(restFixture("flag-all-environments"));
    expect(entry.project?.environment?.key).toBe("production");
    expect(entry.key).toBe("new-search");
    expect(entry.title?.plainText).toBe("Sam Rivera updated the flag New search (v2)");
    expect(entry.details?.html).toBe(
      "<ul><li>Changed the name from <strike><code>New search</code></strike> to <code>New search (v2)</code></li></ul>",
    );
  });

  test("a project entry names its project after the target", () => {
    const entry = accepted(restFixture("project-create"));
    expect(entry).toMatchObject({
      kind: "project",
      key: "payments",
      tags: ["pci"],
      verbKind: "createProject",
      project: {
        key: "payments",
        name: "Payments",
        tags: ["pci"],
        environment: { key: "", name: "", tags: [] },
      },
    });
  });

  test("an environment entry names the environment after the target and the project after `parent`", () => {
    const entry = accepted(restFixture("environment-update"));
    expect(entry).toMatchObject({
      key: "staging",
      tags: ["qa"],
      project: {
        key: "payments",
        name: "Payments",
        tags: ["pci"],
        environment: { key: "staging", name: "Staging", tags: ["qa"] },
      },
    });
    expect(entry.details?.plainText).toBe("Changed the color from '#5e00ff' to '#342749'\nAdded tag 'qa'");
  });

  test("a member entry has no project, and a member with no names is shown by email", () => {
    const entry = accepted(restFixture("member-role"));
    expect(entry.key).toBe("6241dc4740fba70b23567999");
    expect(entry.project).toEqual({
      key: "",
      name: "",
      tags: [],
      environment: { key: "", name: "", tags: [] },
    });
    expect(entry.member).toMatchObject({ displayName: "admin@example.com", emailLocalPart: "admin" });
  });

  test("an entry made by an API token keeps the token and has no member", () => {
    const entry = accepted(restFixture("segment-by-token"));
    expect(entry).not.toHaveProperty("member");
    expect(entry.token).toMatchObject({ name: "CI sync", ending: "a9f3" });
    expect(entry).toMatchObject({
      key: "beta-users",
      tags: ["beta"],
      project: { key: "web", environment: { key: "production" } },
    });
    expect(entry.title?.plainText).toBe("'CI sync' updated the segment Beta users");
  });

  test("without a target, the accesses name the resource", () => {
    const entry = accepted(restFixture("accesses-only"));
    expect(entry).toMatchObject({
      key: "checkout-conversion",
      verbKind: "createMetric",
      project: { key: "web", tags: ["storefront"], environment: { key: "" } },
      details: { plainText: "", markdown: "", html: "" },
    });
  });

  test("hostile Markdown is escaped, and a javascript: link keeps only its text", () => {
    const entry = accepted(restFixture("hostile-markdown"));
    expect(entry.title?.html).toBe(
      "&lt;script&gt;alert(1)&lt;/script&gt; updated the flag " +
        '<a href="https://app.launchdarkly.com/web/production/features/promo-banner?a=1&amp;b=2">Promo &quot;banner&quot;</a> &amp; more',
    );
    expect(entry.details?.html).toBe(
      "<ul><li>Changed the description to <code>&lt;img src=x onerror=alert(1)&gt;</code></li></ul>",
    );
    expect(entry.name).toBe("Promo <b>banner</b>"); // plain fields stay plain: templates escape them
  });

  test("fields given win over those derived, and another baseURL makes the links", () => {
    const entry = accepted({
      ...restFixture("flag-toggle"),
      key: "given-key",
      verbKind: "given-verb",
      tags: ["given"],
      details: "given **details**",
      baseURL: "https://app.eu.launchdarkly.com/",
    });
    expect(entry).toMatchObject({ key: "given-key", verbKind: "given-verb", tags: ["given"] });
    expect(entry.details?.html).toBe("given <strong>details</strong>");
    expect(entry.baseURL).toBe("https://app.eu.launchdarkly.com/");
    expect(entry._links).toHaveProperty(
      "self.href",
      "https://app.eu.launchdarkly.com/api/v2/auditlog/65f1c2a9e4b0a1d2c3f40011",
    );
  });

  test("a converted entry normalises to itself", () => {
    for (const name of [
      "flag-toggle",
      "flag-tagged-resources",
      "member-role",
      "segment-by-token",
      "accesses-only",
    ]) {
      const entry = accepted(restFixture(name));
      const again = normaliseEntry(entry);
      expect(again.shape).toBe("context");
      expect(again.entry).toStrictEqual(entry);
    }
  });
});

describe("bad input: every problem, each with its JSON pointer", () => {
  test.each<[string, unknown, string[]]>([
    ["a string body", "flag", [""]],
    ["null", null, [""]],
    ["an array", [context()], [""]],
    ["no kind and no timestamp", { _id: "x" }, ["/kind", "/timestamp"]],
    ["an empty kind", context({ kind: " " }), ["/kind"]],
    ["a numeric kind", context({ kind: 7 }), ["/kind"]],
    [
      "milliseconds as a string",
      context({ timestamp: { milliseconds: "1580777319650" } }),
      ["/timestamp/milliseconds"],
    ],
    ["no milliseconds", context({ timestamp: { seconds: 1 } }), ["/timestamp/milliseconds"]],
    ["fractional milliseconds", context({ timestamp: 1.5 }), ["/timestamp"]],
    ["negative milliseconds", context({ timestamp: { milliseconds: -1 } }), ["/timestamp/milliseconds"]],
    ["a year past 9999", context({ timestamp: 253402300800000 }), ["/timestamp"]],
    ["a timestamp string", context({ timestamp: "2020-02-04T00:48:39Z" }), ["/timestamp"]],
    [
      "bad timestamp forms",
      context({ timestamp: { milliseconds: 1, seconds: "1", rfc3339: 1, simple: [] } }),
      ["/timestamp/seconds", "/timestamp/rfc3339", "/timestamp/simple"],
    ],
    ["a tag that is not a string", context({ tags: ["ok", 3, "fine", {}] }), ["/tags/1", "/tags/3"]],
    ["tags as a string", context({ tags: "ops" }), ["/tags"]],
    ["a project without a key", context({ project: { name: "P", tags: [] } }), ["/project/key"]],
    [
      "a bad environment",
      context({ project: { key: "p", environment: { key: 1, tags: [2] } } }),
      ["/project/environment/key", "/project/environment/tags/0"],
    ],
    ["a title of the wrong type", context({ title: 5, details: { html: 1 } }), ["/title", "/details/html"]],
    ["a member that is a string", context({ member: "ann" }), ["/member"]],
    ["empty accesses", context({ accesses: [] }), ["/accesses"]],
    [
      "bad accesses",
      context({ accesses: [{ action: "", resource: "r" }, "x", { action: "a" }] }),
      ["/accesses/0/action", "/accesses/1", "/accesses/2/resource"],
    ],
    ["a REST entry with a string date", { kind: "flag", date: "2024-03-13" }, ["/date"]],
    [
      "a REST entry with bad target resources",
      { kind: "flag", date: 1, target: { resources: [1] } },
      ["/target/resources/0"],
    ],
    ["a REST entry without kind", { date: 1 }, ["/kind"]],
    [
      "a title object with a bad field, in a REST entry",
      { kind: "flag", date: 1, title: { markdown: false } },
      ["/title/markdown"],
    ],
  ])("%s", (_case, input, pointers) => {
    const result = normaliseEntry(input);
    expect(result.entry).toBeUndefined();
    expect(pointersOf(result.issues)).toEqual(pointers);
    for (const issue of result.issues) expect(issue.message.length).toBeGreaterThan(5);
  });

  test.each<[string, unknown, string]>([
    ["a colon", "flag:1", 'got "flag:1"'],
    ["a space", "a b", 'got "a b"'],
    ["a slash", "a/b", 'got "a/b"'],
    ["non-ASCII", "é", 'got "é"'],
    ["an empty string", "", "must not be empty"],
    ["201 characters", "a".repeat(201), "at most 200"],
    ["a number", 5, "must be a string; got 5"],
  ])("an _id with %s is refused, quoting the value", (_case, id, message) => {
    const result = normaliseEntry(context({ _id: id }));
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ pointer: "/_id", code: "ENTRIES_ISSUE_BAD_ID" });
    expect(result.issues[0]!.message).toContain(message);
  });

  test("ids of 200 safe characters, LaunchDarkly's and UUIDs are taken", () => {
    for (const id of [
      "a".repeat(200),
      "5e38bf6706121d8aaf15392a",
      "0b5c8a4e-2f7d-4c1e-9a3b-6d5e4f3a2b1c",
      "A.b_c~d-e",
    ]) {
      expect(accepted(context({ _id: id }))._id).toBe(id);
    }
  });

  test("a body with several bad entries lists every problem of every entry", () => {
    const body = [
      context(),
      context({ kind: "" }),
      "nonsense",
      context({ timestamp: { milliseconds: "soon" }, tags: [1] }),
      { kind: "flag", date: "yesterday", _id: "a:b" },
      context(),
    ];
    const result = normaliseBody(body);
    expect(pointersOf(result.issues)).toEqual([
      "/1/kind",
      "/2",
      "/3/timestamp/milliseconds",
      "/3/tags/0",
      "/4/_id",
      "/4/date",
    ]);
    expect(result.entries).toHaveLength(2);
  });

  test("a body of one entry has pointers from the root, and an array's from the entry's index", () => {
    expect(pointersOf(normaliseBody(context({ kind: 1 })).issues)).toEqual(["/kind"]);
    expect(pointersOf(normaliseBody([context(), context({ kind: 1 })]).issues)).toEqual(["/1/kind"]);
    expect(pointersOf(normaliseEntry(context({ kind: 1 }), "/7").issues)).toEqual(["/7/kind"]);
  });

  test("an empty array, and an array over the limit, are refused whole", () => {
    expect(normaliseBody([]).issues).toEqual([
      { pointer: "", code: "ENTRIES_ISSUE_EMPTY", message: "must hold at least one entry" },
    ]);
    const over = normaliseBody(
      Array.from({ length: 4 }, () => context()),
      { maxEntries: 3 },
    );
    expect(over.issues).toEqual([
      { pointer: "", code: "ENTRIES_ISSUE_TOO_MANY", message: "holds 4 entries, more than the limit of 3" },
    ]);
    expect(over.entries).toEqual([]);
    expect(normaliseBody(Array.from({ length: 1000 }, () => context())).entries).toHaveLength(1000);
    expect(normaliseBody(Array.from({ length: 1001 }, () => context())).issues[0]?.code).toBe(
      "ENTRIES_ISSUE_TOO_MANY",
    );
  });

  test("a good body gives every entry, in order, and names the ids it generated", () => {
    const { _id, ...withoutId } = context();
    const result = normaliseBody([context({ _id: "first" }), withoutId, restFixture("project-create")]);
    expect(result.issues).toEqual([]);
    expect(result.entries.map((entry) => entry.kind)).toEqual(["flag", "flag", "project"]);
    expect([...result.generatedIds]).toEqual([result.entries[1]!._id]);
  });

  test("keys with / and ~ are escaped in pointers (RFC 6901)", () => {
    const result = normaliseEntry(context({ "a/b~c": { x: "y".repeat(40) } }), "", {
      limits: { maxStringLength: 30 },
    });
    expect(pointersOf(result.issues)).toEqual(["/a~1b~0c/x"]);
  });

  test("nesting, string length and value count are bounded", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 70; i++) deep = [deep];
    const tooDeep = normaliseEntry(context({ deep }));
    expect(tooDeep.issues).toHaveLength(1);
    expect(tooDeep.issues[0]).toMatchObject({
      code: "ENTRIES_ISSUE_TOO_DEEP",
      pointer: `/deep${"/0".repeat(64)}`,
    });

    const long = normaliseEntry(context({ comment: "x".repeat(256 * 1024 + 1) }));
    expect(long.issues).toEqual([
      {
        pointer: "/comment",
        code: "ENTRIES_ISSUE_TOO_LONG",
        message: "is 262145 characters long, more than the limit of 262144",
      },
    ]);
    const longKey = normaliseEntry(context({ member: { ["k".repeat(40)]: 1 } }), "", {
      limits: { maxStringLength: 30 },
    });
    expect(longKey.issues).toHaveLength(1);
    expect(longKey.issues[0]).toMatchObject({ pointer: "/member", code: "ENTRIES_ISSUE_TOO_LONG" });
    expect(longKey.issues[0]!.message).toContain("has a key 40 characters long");
    const wide = normaliseEntry(context({ many: Array.from({ length: 50 }, (_, i) => i) }), "", {
      limits: { maxValues: 40 },
    });
    expect(wide.issues).toEqual([
      { pointer: "", code: "ENTRIES_ISSUE_TOO_BIG", message: "holds more than 40 values" },
    ]);
  });

  test("values JSON cannot hold are refused by in-process callers, never thrown", () => {
    const throwing = Object.defineProperty({ kind: "flag", timestamp: 1 }, "boom", {
      enumerable: true,
      get() {
        throw new Error("getter exploded");
      },
    });
    expect(pointersOf(normaliseEntry(throwing).issues)).toEqual([""]);
    const cyclic: Record<string, unknown> = context();
    cyclic.self = cyclic;
    expect(normaliseEntry(cyclic).issues[0]?.code).toBe("ENTRIES_ISSUE_TOO_DEEP");
    const odd = normaliseEntry(
      context({ when: new Date(0), n: Number.NaN, f: () => 1, list: [undefined], skipped: undefined }),
    );
    expect(pointersOf(odd.issues)).toEqual(["/when", "/n", "/f", "/list/0"]);
    expect(normaliseEntry(new Map()).issues[0]?.pointer).toBe("");
  });

  test("parseEntry throws InvalidEntryError with every issue", () => {
    expect(parseEntry(context()).key).toBe("demo-flag");
    let thrown: unknown;
    try {
      parseEntry({ kind: 1, timestamp: "x" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidEntryError);
    expect((thrown as InvalidEntryError).code).toBe("ENTRIES_ERR_INVALID");
    expect(pointersOf((thrown as InvalidEntryError).issues)).toEqual(["/kind", "/timestamp"]);
    expect((thrown as Error).message).toMatch(
      /^invalid entry \(2 problems\): \/kind: must be a string; got 1; \/timestamp: /,
    );
  });
});

describe("prototype pollution", () => {
  const payloads = [
    '{"kind":"flag","timestamp":1,"__proto__":{"polluted":"yes"}}',
    '{"kind":"flag","timestamp":1,"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"kind":"flag","timestamp":1,"member":{"__proto__":{"polluted":"yes"},"email":"a@b.c"}}',
    '{"kind":"flag","timestamp":1,"project":{"key":"p","__proto__":{"tags":["injected"]},"environment":{"key":"e","constructor":{"prototype":{"polluted":"yes"}}}}}',
    '{"kind":"flag","timestamp":{"milliseconds":1,"__proto__":{"seconds":"x"}},"tags":[{"__proto__":{"polluted":"yes"}}]}',
    '[{"kind":"flag","date":1,"accesses":[{"action":"a","resource":"r","__proto__":{"polluted":"yes"}}],"prototype":{"polluted":"yes"}}]',
    '{"kind":"flag","timestamp":1,"customProperties":{"deep":[{"a":{"__proto__":{"polluted":"yes"}}}]}}',
  ];

  test.each(payloads)("%s pollutes nothing, and the dangerous keys are dropped with a warning", (json) => {
    const result = normaliseBody(JSON.parse(json));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(Array.prototype).not.toHaveProperty("polluted");
    expect(result.warnings.length).toBeGreaterThan(0);
    for (const warning of result.warnings) expect(warning.code).toBe("ENTRIES_WARN_DROPPED_KEY");
    const out = JSON.stringify(result.entries);
    expect(out).not.toContain("__proto__");
    expect(out).not.toContain("polluted");
    expect(out).not.toContain("injected");
    for (const entry of result.entries) {
      expect(Object.getPrototypeOf(entry)).toBe(Object.prototype);
      const copy = { ...entry, ...Object.assign({}, entry) };
      expect((copy as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  test("the pointer of a dropped key is reported", () => {
    const result = normaliseEntry(JSON.parse('{"kind":"flag","timestamp":1,"member":{"__proto__":{}}}'));
    expect(result.warnings).toEqual([
      {
        pointer: "/member/__proto__",
        code: "ENTRIES_WARN_DROPPED_KEY",
        message: 'the key "__proto__" is dropped: it could reach a prototype',
      },
    ]);
    expect(result.entry?.member).toEqual({});
  });

  test("a field named like an Object.prototype member is just a field", () => {
    const entry = accepted(context({ toString: "x", hasOwnProperty: 1, valueOf: null }));
    expect(entry.toString).toBe("x");
    expect(entry.hasOwnProperty).toBe(1);
  });
});
