/**
 * The LaunchDarkly integration-framework corpus: every real `defaultPolicy` compiles cleanly, every
 * sample context derives a sensible access, and the default policies decide as their authors meant.
 * Reads the corpus from HOOKWIRE_SHARED_DIR at run time; without it these tests fail in CI and,
 * elsewhere, say they did not run (test/support/corpus.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { accessesOf } from "./accesses";
import { compilePolicy } from "./policy";
import { parseSpecifier } from "./specifier";
import type { EntryLike } from "./types";
import { validatePolicy } from "./validation";

const corpus = corpusDir ?? "";

test("the framework's corpus is there to test against (required in CI)", (context) => {
  expectCorpus(context, "the LaunchDarkly corpus tests of @hookwire/policy");
});

function defaultPolicies(): Map<string, unknown> {
  const policies = new Map<string, unknown>();
  for (const key of readdirSync(join(corpus, "integrations"))) {
    const manifest = JSON.parse(readFileSync(join(corpus, "integrations", key, "manifest.json"), "utf8"));
    const policy = manifest?.capabilities?.auditLogEventsHook?.defaultPolicy;
    if (policy !== undefined) policies.set(key, policy);
  }
  return policies;
}

function sampleContexts(): Map<string, EntryLike> {
  const samples = new Map<string, EntryLike>();
  const root = join(corpus, "sample-context");
  for (const group of readdirSync(root)) {
    for (const file of readdirSync(join(root, group))) {
      samples.set(`${group}/${file}`, JSON.parse(readFileSync(join(root, group, file), "utf8")));
    }
  }
  return samples;
}

/** What each sample should derive to: the entry's own kind, keys and tags, level by level. */
const EXPECTED_ACCESS: Record<string, string> = {
  "environment/create.json": "createEnvironment proj/default;demo:env/local-dev",
  "environment/delete.json": "deleteEnvironment proj/default;demo:env/local-dev;demo",
  "environment/update.json": "updateTags proj/default;demo:env/local-dev",
  "flag/archive.json": "updateArchived proj/default:env/*:flag/a-brand-new-flag",
  "flag/copy.json": "copyFlagConfigTo proj/default:env/test:flag/demo-flag;demo",
  "flag/create.json": "createFlag proj/default:env/*:flag/a-brand-new-flag",
  "flag/targeting-rule-update.json": "updateRules proj/default:env/production:flag/demo-flag;ops,security",
  "flag/toggle.json": "updateOn proj/default:env/production:flag/demo-flag",
  "flag/update-all-environments.json": "updateTag proj/default:env/*:flag/demo-flag",
  "member/update.json": "updateRole member/6241dc4740fba70b235672b5",
  "other/metric.create.json": "createMetric proj/default;demo:metric/new-metric",
  "other/segment.create.json": "createSegment proj/default;demo:env/production:segment/new-segment",
  "other/segment.update.json": "updateRules proj/default;demo:env/production:segment/new-segment",
  "other/webhook.enable.json": "updateOn webhook/5775a7e1aceb07bb5b00000d",
  "project/create.json": "createProject proj/a-new-project",
  "project/delete.json": "deleteProject proj/a-new-project",
  "project/update.json": "updateTags proj/default",
};

const PRODUCTION_FLAG_CHANGES = ["flag/targeting-rule-update.json", "flag/toggle.json"];
const ALL_FLAG_CHANGES = [
  "flag/archive.json",
  "flag/copy.json",
  "flag/create.json",
  "flag/targeting-rule-update.json",
  "flag/toggle.json",
  "flag/update-all-environments.json",
];

/** Which samples each integration's default policy lets through. */
const EXPECTED_DELIVERED: Record<string, string[]> = {
  appdynamics: PRODUCTION_FLAG_CHANGES,
  datadog: PRODUCTION_FLAG_CHANGES,
  dynatrace: PRODUCTION_FLAG_CHANGES,
  elastic: PRODUCTION_FLAG_CHANGES,
  grafana: PRODUCTION_FLAG_CHANGES,
  honeycomb: PRODUCTION_FLAG_CHANGES,
  // createFlag and updateOn in any environment: creation is an all-environments change (env/*).
  kosli: ["flag/create.json", "flag/toggle.json"],
  "ld-to-git": ALL_FLAG_CHANGES,
  msteams: PRODUCTION_FLAG_CHANGES,
  "new-relic": PRODUCTION_FLAG_CHANGES,
  // Listed flag actions in production, and segment targeting changes in production.
  pagerduty: ["flag/targeting-rule-update.json", "flag/toggle.json", "other/segment.update.json"],
  "sample-integration": PRODUCTION_FLAG_CHANGES,
  splunk: PRODUCTION_FLAG_CHANGES,
  zapier: PRODUCTION_FLAG_CHANGES,
};

describe.runIf(corpusDir !== undefined)("LaunchDarkly corpus", () => {
  test("every defaultPolicy compiles with no errors and no warnings", () => {
    const policies = defaultPolicies();
    expect(policies.size).toBeGreaterThan(0);
    for (const [key, policy] of policies) {
      expect({ key, ...validatePolicy(policy) }).toEqual({ key, errors: [], warnings: [] });
      expect(() => compilePolicy(policy)).not.toThrow();
    }
  });

  test("every sample context derives one access, with a resource that parses", () => {
    const samples = sampleContexts();
    expect([...samples.keys()].sort()).toEqual(Object.keys(EXPECTED_ACCESS).sort());
    for (const [name, entry] of samples) {
      const accesses = accessesOf(entry);
      expect({ name, accesses: accesses.map((a) => `${a.action} ${a.resource}`) }).toEqual({
        name,
        accesses: [EXPECTED_ACCESS[name]],
      });
      for (const access of accesses) expect(() => parseSpecifier(access.resource)).not.toThrow();
    }
  });

  test("each default policy delivers the samples its authors meant it to", () => {
    const samples = sampleContexts();
    for (const [key, statements] of defaultPolicies()) {
      const policy = compilePolicy(statements);
      const delivered = [...samples]
        .filter(([, entry]) => policy.allowsAny(accessesOf(entry)))
        .map(([name]) => name)
        .sort();
      expect({ key, delivered }).toEqual({ key, delivered: EXPECTED_DELIVERED[key] });
    }
  });

  test("explain says why a production-only default policy skips a test-environment change", () => {
    const samples = sampleContexts();
    const policy = compilePolicy(defaultPolicies().get("datadog"));
    const [access] = accessesOf(samples.get("flag/copy.json")!);
    expect(policy.explain(access!)).toMatchObject({
      allowed: false,
      statementIndex: null,
      reason: expect.stringContaining('env key "test" does not match "production"'),
    });
  });
});
