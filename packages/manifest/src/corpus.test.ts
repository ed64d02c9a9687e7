/**
 * The compatibility suite: every integration of the integration framework's corpus loads as it
 * is, and every template renders, against every sample context, what the framework's own
 * renderer renders. The corpus is read from HOOKWIRE_SHARED_DIR at run time, never copied.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { escapeJsonStrings } from "@hookwire/templates";
import { beforeAll, describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import {
  frameworkRenderer,
  isJsonFile,
  frameworkFormValues as standIns,
} from "../../../test/support/framework";
import { renderBody } from "./body";
import type { FormValues, Integration, TemplateKey } from "./integration";
import { type Catalog, loadCatalog } from "./loader";
import { renderRequest } from "./request";

const corpus = corpusDir ?? "";

/** The framework tests' stand-in form values for an integration. */
function frameworkFormValues(integration: Integration): FormValues {
  return standIns(integration.formVariables);
}

test("the framework's corpus is there to test against (required in CI)", (context) => {
  expectCorpus(context, "the integration-framework compatibility suite of @hookwire/manifest");
});

describe.runIf(corpusDir !== undefined)("the integration framework's corpus", () => {
  let catalog: Catalog;
  const contexts: [string, Record<string, unknown>][] = [];
  const folders: string[] = [];
  const reference = frameworkRenderer();

  beforeAll(async () => {
    catalog = await loadCatalog([join(corpus, "integrations")]);
    for (const kind of readdirSync(join(corpus, "sample-context"))) {
      for (const file of readdirSync(join(corpus, "sample-context", kind))) {
        contexts.push([
          `${kind}/${file}`,
          JSON.parse(readFileSync(join(corpus, "sample-context", kind, file), "utf8")),
        ]);
      }
    }
    folders.push(...readdirSync(join(corpus, "integrations")));
  });

  test("every integration loads as it is", () => {
    expect(catalog.problems).toEqual([]);
    expect(
      catalog
        .list()
        .map((i) => i.key)
        .sort(),
    ).toEqual([...folders].sort());
    expect(contexts.length).toBeGreaterThan(10);
  });

  test("every template renders, against every sample context, what the framework renders", () => {
    let renders = 0;
    for (const integration of catalog.list()) {
      const formValues = frameworkFormValues(integration);
      for (const [key, template] of Object.entries(integration.templates) as [
        TemplateKey,
        { file: string },
      ][]) {
        const compiled = reference.compile(readFileSync(template.file, "utf8"));
        for (const [name, context] of contexts) {
          const where = `${integration.key} ${key} template with ${name}`;
          const json = isJsonFile(template.file);
          const expected = compiled({
            ...(json ? escapeJsonStrings(context) : context),
            formVariables: formValues,
          });
          const ours = renderBody(integration, context, formValues, { templateKey: key, checkJson: false });
          expect(ours.body ?? "", where).toBe(expected.trim() === "" ? "" : expected);
          renders++;
        }
      }
    }
    expect(renders).toBeGreaterThan(500);
  });

  test("JSON templates give valid JSON wherever the framework's renderer does", () => {
    for (const integration of catalog.list()) {
      const formValues = frameworkFormValues(integration);
      for (const [key, template] of Object.entries(integration.templates) as [
        TemplateKey,
        { file: string; isJson: boolean },
      ][]) {
        if (!template.isJson) continue;
        const compiled = reference.compile(readFileSync(template.file, "utf8"));
        for (const [name, context] of contexts) {
          const expected = compiled({ ...escapeJsonStrings(context), formVariables: formValues });
          let theirsValid = true;
          try {
            if (expected.trim() !== "") JSON.parse(expected);
          } catch {
            theirsValid = false;
          }
          if (!theirsValid) continue;
          const { body } = renderBody(integration, context, formValues, { templateKey: key });
          if (body !== null)
            expect(() => JSON.parse(body), `${integration.key} ${key} with ${name}`).not.toThrow();
        }
      }
    }
  });

  test("strict rendering passes where the framework's own test suite passes", () => {
    // The framework's CI pairs each template with one sample context, renders it strictly, and
    // requires JSON templates to give JSON and the validation template to give something.
    const pairs: Record<TemplateKey, string> = {
      flag: "flag/update-all-environments.json",
      default: "flag/update-all-environments.json",
      project: "project/update.json",
      environment: "environment/update.json",
      validation: "environment/update.json",
      member: "member/update.json",
    };
    for (const integration of catalog.list()) {
      const formValues = frameworkFormValues(integration);
      for (const key of Object.keys(integration.templates) as TemplateKey[]) {
        if (key === "member") continue; // not in the framework's pairs
        const context = contexts.find(([name]) => name === pairs[key])?.[1] ?? {};
        const { body } = renderBody(integration, context, formValues, { templateKey: key, strict: true });
        if (key === "validation") expect(body, `${integration.key} validation`).not.toBeNull();
      }
    }
  });

  test("every URL and header renders strictly with the form variables, the entry and oauth", () => {
    const flag = contexts.find(([name]) => name === "flag/update-all-environments.json")?.[1] ?? {};
    for (const integration of catalog.list()) {
      const oauth = integration.requiresOAuth
        ? { baseURI: "$OAUTH_BASE_URI", accessToken: "$OAUTH_ACCESS_TOKEN" }
        : null;
      const request = renderRequest(integration, frameworkFormValues(integration), flag, oauth, {
        strict: true,
      });
      expect(request.url.length, integration.key).toBeGreaterThan(0);
      expect(request.method).toMatch(/^(POST|PUT|PATCH|GET|DELETE)$/);
    }
  });

  test("the error-body rule: hosts written in the manifest or chosen from an enum", () => {
    const fixed = catalog
      .list()
      .filter((i) => i.urlHostIsFixed)
      .map((i) => i.key);
    expect(fixed).toEqual(expect.arrayContaining(["datadog", "honeycomb", "new-relic", "pagerduty"]));
    for (const key of ["msteams", "zapier", "elastic", "splunk", "kosli"]) expect(fixed).not.toContain(key);
  });
});
