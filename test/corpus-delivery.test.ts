/**
 * Every integration of the framework's corpus, delivered for real: a hook of each, every sample
 * context posted to it as an entry, and each request that reaches a real receiver held, row by
 * row, against what the framework's renderer makes of the same manifest (method, URL, headers,
 * signature, body) and against what the preview route shows for the same entry.
 *
 * The hooks keep the integrations' own URLs, fixed hosts included (api.honeycomb.io,
 * events.pagerduty.com...): the worker's sender routes every origin to the receiver on loopback
 * (SenderConfig.routeOrigin, a test seam like its DNS resolver), and the request keeps its path,
 * query and Host. The form values are the framework tests' stand-ins. Rows the framework cannot
 * render (a kind with neither a template of its own nor `default`: hookwire sends its built-in
 * body) are held against the preview only.
 */
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSender } from "@hookwire/delivery";
import { type Integration, loadCatalog, type TemplateKey } from "@hookwire/manifest";
import { escapeJsonStrings } from "@hookwire/templates";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "./support/corpus";
import { frameworkFormValues, frameworkRenderer, isJsonFile } from "./support/framework";
import type { ReceivedRequest } from "./support/receiver";
import { testScope } from "./support/scope";

const scope = testScope();

/** Every entry goes to every hook: the integrations' default policies are not under test here. */
const ALLOW_ALL = [
  {
    effect: "allow",
    resources: [
      "proj/*",
      "proj/*:env/*",
      "proj/*:env/*:flag/*",
      "proj/*:env/*:segment/*",
      "proj/*:metric/*",
      "proj/*:env/*:destination/*",
      "member/*",
      "webhook/*",
      "integration/*",
    ],
    actions: ["*"],
  },
];

/** The access token and base URI a hook of a requiresOAuth integration is given (grant "token"). */
const OAUTH = { accessToken: "corpus-access-token", baseURI: "https://oauth-base.example/api" };

interface Row {
  integration: Integration;
  context: string;
  entry: Record<string, unknown>;
}

function sampleContexts(corpus: string): [string, Record<string, unknown>][] {
  const contexts: [string, Record<string, unknown>][] = [];
  for (const kind of readdirSync(join(corpus, "sample-context")).sort()) {
    for (const file of readdirSync(join(corpus, "sample-context", kind)).sort()) {
      contexts.push([
        `${kind}/${file}`,
        JSON.parse(readFileSync(join(corpus, "sample-context", kind, file), "utf8")),
      ]);
    }
  }
  return contexts;
}

/**
 * The framework tests' stand-in form values, except that a hook must be able to send: an enum
 * takes its default, else its first allowed value, and a string the URL begins with (kosli's
 * `{{webhookUrl}}`) is a URL.
 */
function hookFormValues(integration: Integration): Record<string, string | boolean> {
  const values = frameworkFormValues(integration.formVariables);
  const lead = /^\{\{\{?\s*([^\s}]+)\s*\}?\}\}/.exec(integration.endpoint.url)?.[1];
  if (lead !== undefined && typeof values[lead] === "string" && !/^https?:/.test(values[lead]))
    values[lead] = `https://${lead}.com`;
  for (const v of integration.formVariables) {
    if (v.type !== "enum") continue;
    const chosen = v.defaultValue ?? v.allowedValues?.[0];
    if (chosen !== undefined) values[v.key] = chosen;
  }
  return values;
}

/** The template the framework renders for an entry: its kind's own, else `default`, else none. */
function frameworkTemplate(integration: Integration, kind: unknown): TemplateKey | undefined {
  const own = typeof kind === "string" && kind !== "validation" ? (kind as TemplateKey) : undefined;
  if (own !== undefined && integration.templates[own] !== undefined) return own;
  return integration.templates.default !== undefined ? "default" : undefined;
}

describe("every integration of the framework's corpus, delivered", () => {
  test("the framework's corpus is there to deliver (required in CI)", (context) => {
    expectCorpus(context, "the delivery of every corpus integration");
  });

  test.runIf(corpusDir !== undefined)(
    "each sample entry reaches the receiver as the framework renders it and as the preview shows it, for every integration",
    async () => {
      const corpus = corpusDir ?? "";
      const rx = await scope.receiver();
      const sender = createSender({
        userAgent: "hookwire/test",
        allowPrivateNetworks: false,
        allowedNetworks: ["127.0.0.0/8"],
        routeOrigin: () => rx.url,
      });
      const sys = await scope.system({
        label: "corpus-delivery",
        env: { HOOKWIRE_INTEGRATIONS_DIR: join(corpus, "integrations") },
        sender,
      });
      const catalog = await loadCatalog([join(corpus, "integrations")]);
      const contexts = sampleContexts(corpus);
      const reference = frameworkRenderer();
      let compared = 0;
      let againstFramework = 0;
      let skipped = 0;

      for (const integration of catalog.list()) {
        if (!integration.deliverable) continue;
        const formValues = hookFormValues(integration);
        const created = await sys.api("POST", "/v1/hooks", {
          integration: integration.key,
          name: `corpus ${integration.key}`,
          formVariables: formValues,
          policy: ALLOW_ALL,
          ...(integration.requiresOAuth ? { oauth: { grant: "token", ...OAUTH } } : {}),
        });
        expect(created.status, `${integration.key}: ${JSON.stringify(created.json)}`).toBe(201);
        const hookId: string = created.json.id;

        // Each entry under an id of its own (ids are claimed once), the context otherwise as it is.
        const rows: Row[] = contexts.map(([name, context]) => ({
          integration,
          context: name,
          entry: { ...context, _id: `${String(context._id)}-${randomUUID().slice(0, 8)}` },
        }));
        const before = rx.requests.length;
        const posted = await sys.api(
          "POST",
          "/v1/entries",
          rows.map((row) => row.entry),
        );
        expect(posted.status, JSON.stringify(posted.json)).toBe(202);

        // Every delivery of the hook settles (sent, or skipped for an empty body).
        let deliveries: { id: string; entryId: string; status: string }[] = [];
        await expect
          .poll(
            async () => {
              const listed = await sys.api("GET", `/v1/deliveries?hookId=${hookId}&limit=100`);
              deliveries = listed.json.deliveries;
              return deliveries.filter((d) => d.status === "succeeded" || d.status === "skipped").length;
            },
            { timeout: 15_000, interval: 50, message: `${integration.key}: its deliveries settle` },
          )
          .toBe(rows.length);
        const received = new Map<string, ReceivedRequest>();
        for (const request of rx.requests.slice(before)) {
          received.set(String(request.headers["x-hookwire-delivery"]), request);
        }

        for (const row of rows) {
          const where = `${integration.key} × ${row.context}`;
          const delivery = deliveries.find((d) => d.entryId === row.entry._id);
          expect(delivery, where).toBeDefined();
          const preview = await sys.api("POST", `/v1/integrations/${integration.key}/preview`, {
            entry: row.entry,
            formVariables: formValues,
          });
          expect(preview.status, where).toBe(200);
          const request = received.get(delivery?.id ?? "");

          // What the framework renders: the body from the kind's template, URL and headers from
          // the endpoint's, with the form variables at top level, the entry as `context`, `oauth`.
          const key = frameworkTemplate(integration, row.entry.kind);
          let body: string | undefined;
          if (key !== undefined) {
            const template = integration.templates[key]!;
            const rendered = reference.compile(readFileSync(template.file, "utf8"))({
              ...(isJsonFile(template.file) ? escapeJsonStrings(row.entry) : row.entry),
              formVariables: formValues,
            });
            body = rendered.trim() === "" ? "" : rendered;
          }
          if (body === "" || (body === undefined && preview.json.body === null)) {
            // Nothing to send, as the framework would send nothing.
            expect(delivery?.status, where).toBe("skipped");
            expect(request, where).toBeUndefined();
            expect(preview.json.body, where).toBeNull();
            skipped++;
            continue;
          }
          expect(delivery?.status, where).toBe("succeeded");
          expect(request, `${where}: no request reached the receiver`).toBeDefined();
          if (request === undefined) continue;

          const urlContext = {
            ...formValues,
            context: row.entry,
            oauth: integration.requiresOAuth ? OAUTH : null,
          };
          const url = new URL(reference.compile(integration.endpoint.url)(urlContext));
          expect(request.method, where).toBe(integration.endpoint.method);
          expect(request.headers.host, where).toBe(url.host);
          expect(request.url, where).toBe(url.pathname + url.search);
          for (const header of integration.endpoint.headers) {
            expect(request.headers[header.name.toLowerCase()], `${where}: header ${header.name}`).toBe(
              reference.compile(header.value)(urlContext),
            );
          }
          if (body !== undefined) {
            expect(request.body, `${where}: body`).toBe(body);
            againstFramework++;
          }
          const signing = integration.endpoint.hmacSignature;
          if (signing !== undefined) {
            const secret = String(formValues[signing.hmacSecretFormVariableKey]);
            expect(request.headers[signing.headerName.toLowerCase()], `${where}: signature`).toBe(
              createHmac("sha256", secret).update(request.body).digest("hex"),
            );
          }

          // The preview shows the same request (its OAuth values are placeholders).
          expect(preview.json.method, where).toBe(request.method);
          expect(preview.json.body, `${where}: preview body`).toBe(request.body);
          if (!integration.requiresOAuth) {
            const shown = new URL(preview.json.url);
            expect(shown.host + shown.pathname + shown.search, where).toBe(
              request.headers.host + request.url,
            );
            for (const { name, value } of preview.json.headers as { name: string; value: string }[]) {
              expect(request.headers[name.toLowerCase()], `${where}: preview header ${name}`).toBe(value);
            }
          }
          compared++;
        }
        const deleted = await sys.api("DELETE", `/v1/hooks/${hookId}`);
        expect(deleted.status).toBeLessThan(300);
      }
      // Every deliverable integration of the corpus, every sample context: none left out.
      const deliverable = catalog.list().filter((i) => i.deliverable).length;
      expect(deliverable).toBeGreaterThanOrEqual(13);
      expect(compared + skipped).toBe(deliverable * contexts.length);
      expect(againstFramework).toBeGreaterThan(compared / 2);
    },
    60_000,
  );
});
