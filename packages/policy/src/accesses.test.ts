import { describe, expect, test } from "vitest";
import { accessesOf } from "./accesses";
import type { EntryLike } from "./types";

const PROJECT = { key: "default", tags: ["mobile"], environment: { key: "production", tags: ["critical"] } };

describe("accessesOf", () => {
  test("uses the entry's own accesses when it has some", () => {
    const accesses = [{ resource: "proj/x:env/y:flag/z", action: "updateRules" }];
    expect(
      accessesOf({ kind: "flag", key: "other", verbKind: "updateOn", project: PROJECT, accesses }),
    ).toEqual(accesses);
  });

  test("ignores malformed items of accesses, and derives when none is usable", () => {
    const entry: EntryLike = { kind: "flag", key: "f", verbKind: "updateOn", project: PROJECT };
    expect(
      accessesOf({ ...entry, accesses: [{ resource: "acct", action: "x" }, { resource: 3 }, null, "y"] }),
    ).toEqual([{ resource: "acct", action: "x" }]);
    const derived = [{ resource: "proj/default;mobile:env/production;critical:flag/f", action: "updateOn" }];
    expect(accessesOf({ ...entry, accesses: [] })).toEqual(derived);
    expect(accessesOf({ ...entry, accesses: [{ nope: true }] })).toEqual(derived);
    expect(accessesOf({ ...entry, accesses: "proj/*" })).toEqual(derived);
  });

  test("a flag toggle: project, environment and flag levels with each level's tags", () => {
    expect(
      accessesOf({ kind: "flag", key: "demo-flag", verbKind: "updateOn", tags: ["ops"], project: PROJECT }),
    ).toEqual([
      { resource: "proj/default;mobile:env/production;critical:flag/demo-flag;ops", action: "updateOn" },
    ]);
  });

  test("~ (all environments) and a missing environment become the literal key *", () => {
    const project = { key: "default", tags: [], environment: { key: "~", tags: null } };
    expect(accessesOf({ kind: "flag", key: "f", verbKind: "createFlag", project })).toEqual([
      { resource: "proj/default:env/*:flag/f", action: "createFlag" },
    ]);
    expect(
      accessesOf({ kind: "segment", key: "s", verbKind: "createSegment", project: { key: "p" } }),
    ).toEqual([{ resource: "proj/p:env/*:segment/s", action: "createSegment" }]);
  });

  test("projects and environments take the entry's own tags on their level", () => {
    expect(
      accessesOf({
        kind: "project",
        key: "p",
        verbKind: "updateTags",
        tags: ["new"],
        project: { key: "p", tags: ["old"] },
      }),
    ).toEqual([{ resource: "proj/p;old,new", action: "updateTags" }]);
    expect(
      accessesOf({
        kind: "environment",
        key: "dev",
        verbKind: "createEnvironment",
        tags: ["t"],
        project: { key: "p", environment: { key: "dev", tags: ["t"] } },
      }),
    ).toEqual([{ resource: "proj/p:env/dev;t", action: "createEnvironment" }]);
  });

  test("project-level kinds sit directly under the project", () => {
    expect(accessesOf({ kind: "metric", key: "m", verbKind: "createMetric", project: PROJECT })).toEqual([
      { resource: "proj/default;mobile:metric/m", action: "createMetric" },
    ]);
    expect(
      accessesOf({ kind: "metricGroup", key: "g", verbKind: "createMetricGroup", project: { key: "p" } }),
    ).toEqual([{ resource: "proj/p:metric-group/g", action: "createMetricGroup" }]);
  });

  test("top-level kinds stand alone; a missing key comes from the target's API link, else *", () => {
    const target = { _links: { canonical: { href: "https://app.example.com/api/v2/members/6241dc47?x=1" } } };
    expect(accessesOf({ kind: "member", verbKind: "updateRole", project: PROJECT, target })).toEqual([
      { resource: "member/6241dc47", action: "updateRole" },
    ]);
    expect(accessesOf({ kind: "webhook", verbKind: "updateOn" })).toEqual([
      { resource: "webhook/*", action: "updateOn" },
    ]);
    expect(accessesOf({ kind: "customRole", key: "admins", verbKind: "updatePolicy" })).toEqual([
      { resource: "role/admins", action: "updatePolicy" },
    ]);
  });

  test("a token sits under any member; the account is the bare acct", () => {
    expect(accessesOf({ kind: "token", key: "t1", verbKind: "createAccessToken" })).toEqual([
      { resource: "member/*:token/t1", action: "createAccessToken" },
    ]);
    expect(accessesOf({ kind: "account", verbKind: "updateOrganization" })).toEqual([
      { resource: "acct", action: "updateOrganization" },
    ]);
  });

  test("an unknown kind is used as its own top-level type; no kind gives no access", () => {
    expect(accessesOf({ kind: "gizmo", key: "g", verbKind: "spin" })).toEqual([
      { resource: "gizmo/g", action: "spin" },
    ]);
    expect(accessesOf({ key: "g", verbKind: "spin" })).toEqual([]);
  });

  test("a missing verbKind is the action *, and null tags are no tags", () => {
    expect(
      accessesOf({
        kind: "flag",
        key: "f",
        tags: null,
        project: { key: "p", tags: null, environment: null },
      }),
    ).toEqual([{ resource: "proj/p:env/*:flag/f", action: "*" }]);
  });
});
