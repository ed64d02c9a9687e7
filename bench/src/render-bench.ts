/**
 * Body renders per second on one core, with a warm cache, as ingest and the worker do them: the
 * project's own catalog (and, when HOOKWIRE_SHARED_DIR is set, every integration of the
 * framework's corpus) rendered for a mix of entries, every template of every integration in
 * turn. One render is `renderBody`: template choice, the context (the entry JSON-escaped once
 * per entry, plus the form values), the Handlebars render under its budget, and the check that
 * a JSON template gave JSON. Warms up, then reports the median of five runs.
 *
 * Run: npx tsx bench/src/render-bench.ts [durationMs]
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  endpointTemplates,
  type FormValues,
  type FormVariable,
  type Integration,
  placeholderFormValues,
  renderBody,
  type TemplateKey,
} from "@hookwire/manifest";
import { type CompiledTemplate, compileTemplate } from "@hookwire/templates";

const RUNS = 5;
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Render {
  integration: Integration;
  templateKey: TemplateKey;
  entry: object;
  formValues: FormValues;
}

/** A flag change as the worker sees one: every field the framework's templates read. */
function flagEntry(n: number): object {
  const id = `65a0c0ffee00000000${String(n).padStart(6, "0")}`;
  return {
    _id: id,
    _links: {
      self: { href: `https://app.launchdarkly.com/api/v2/auditlog/${id}`, type: "application/json" },
      site: {
        href: `https://app.launchdarkly.com/shop/production/features/checkout-${n}`,
        type: "text/html",
      },
      details: { href: `https://app.launchdarkly.com/settings/history/${id}/details`, type: "text/html" },
    },
    baseURL: "https://app.launchdarkly.com",
    timestamp: {
      milliseconds: 1706000000123,
      seconds: 1706000000,
      rfc3339: "2024-01-23T08:53:20Z",
      simple: "2024-01-23 08:53:20",
    },
    kind: "flag",
    key: `checkout-${n}`,
    name: `Checkout "v${n}"`,
    titleVerb: "turned on the flag",
    verbKind: "updateOn",
    title: {
      plainText: `Zoë O'Brien turned on the flag Checkout "v${n}" in 'Production'`,
      markdown: `[Zoë O'Brien](mailto:zoe@example.com) turned on the flag [Checkout "v${n}"](https://app.launchdarkly.com/shop/production/features/checkout-${n}) in \`Production\``,
      html: `<a href="mailto:zoe@example.com">Zoë O'Brien</a> turned on the flag`,
    },
    details: {
      plainText: "Turned the flag on",
      markdown: "* Turned the flag on",
      html: "<ul><li>Turned the flag on</li></ul>",
    },
    comment: "Ship it",
    tags: ["checkout", "web"],
    customProperties: { datadog: { name: "Datadog tags", values: ["team:web"] } },
    project: {
      key: "shop",
      name: "Shop",
      tags: [],
      environment: { key: "production", name: "Production", tags: ["prod"] },
    },
    member: {
      _links: {
        self: { href: "https://app.launchdarkly.com/api/v2/members/5f01", type: "application/json" },
      },
      _id: "5f0000000000000000000001",
      email: "zoe@example.com",
      firstName: "Zoë",
      lastName: "O'Brien",
      displayName: "Zoë O'Brien",
    },
    target: { name: `Checkout v${n}`, _id: "5f0000000000000000000002", _links: {} },
  };
}

function corpusContexts(shared: string): object[] {
  const base = join(shared, "compat", "ld-integration-framework", "sample-context");
  return readdirSync(base).flatMap((kind) =>
    readdirSync(join(base, kind)).map(
      (file) => JSON.parse(readFileSync(join(base, kind, file), "utf8")) as object,
    ),
  );
}

/**
 * The integrations of a catalog folder, read synchronously (the bench is a plain function):
 * the manifest's form variables and templates, compiled as the loader compiles them. The
 * folders were validated by their own tests; anything unreadable is left out.
 */
function integrationsIn(dir: string): Integration[] {
  const integrations: Integration[] = [];
  for (const key of readdirSync(dir).sort()) {
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(readFileSync(join(dir, key, "manifest.json"), "utf8"));
    } catch {
      continue;
    }
    const hook = (manifest.capabilities as { auditLogEventsHook?: Record<string, unknown> } | undefined)
      ?.auditLogEventsHook;
    if (hook === undefined) continue;
    const formVariables = (manifest.formVariables ?? []) as FormVariable[];
    const templates: Partial<Record<TemplateKey, CompiledTemplate>> = {};
    for (const [name, path] of Object.entries((hook.templates ?? {}) as Record<string, string>)) {
      const file = join(dir, key, path);
      templates[name as TemplateKey] = compileTemplate(readFileSync(file, "utf8"), file);
    }
    const secretKeys = new Set(formVariables.filter((v) => v.isSecret === true).map((v) => v.key));
    integrations.push({
      key,
      name: String(manifest.name),
      dir: join(dir, key),
      manifest,
      formVariables,
      secretKeys,
      endpoint: { url: "", method: "POST", headers: [] },
      request: endpointTemplates(compileTemplate("", `${key}/manifest.json#url`), [], secretKeys),
      templates,
      useStandardWebhookPayload: hook.useStandardWebhookPayload === true,
      includeErrorResponseBody: false,
      urlHostIsFixed: false,
      defaultPolicy: [],
      requiresOAuth: manifest.requiresOAuth === true,
      deliverable: true,
      notices: [],
    });
  }
  return integrations;
}

function workload(): Render[] {
  const shared = process.env.HOOKWIRE_SHARED_DIR;
  const integrations = integrationsIn(join(root, "integrations"));
  if (shared !== undefined)
    integrations.push(...integrationsIn(join(shared, "compat", "ld-integration-framework", "integrations")));
  const entries = [flagEntry(1), flagEntry(2), ...(shared === undefined ? [] : corpusContexts(shared))];

  const renders: Render[] = [];
  for (const integration of integrations) {
    const formValues = placeholderFormValues(integration);
    for (const templateKey of Object.keys(integration.templates) as TemplateKey[]) {
      for (const entry of entries) {
        try {
          renderBody(integration, entry, formValues, { templateKey });
          renders.push({ integration, templateKey, entry, formValues });
        } catch {
          // A template that refuses this entry (invalid JSON for it) is not a render to time.
        }
      }
    }
  }
  return renders;
}

/**
 * Renders per CPU second over `durationMs` of CPU time, in whole passes over the workload. CPU
 * time, not wall time: on a shared machine wall time also counts another process's turns.
 */
function measure(renders: readonly Render[], durationMs: number): number {
  let count = 0;
  let sink = 0;
  const start = process.cpuUsage();
  let elapsedMs = 0;
  do {
    for (const r of renders) {
      const { body } = renderBody(r.integration, r.entry, r.formValues, { templateKey: r.templateKey });
      sink += body === null ? 0 : body.length;
    }
    count += renders.length;
    const used = process.cpuUsage(start);
    elapsedMs = (used.user + used.system) / 1000;
  } while (elapsedMs < durationMs);
  if (sink === 0) throw new Error("the benchmark rendered nothing: the workload is wrong");
  return (count * 1000) / elapsedMs;
}

export function benchRender(opts: { durationMs?: number } = {}): {
  rendersPerSec: number;
  templates: number;
  pairs: number;
} {
  const durationMs = opts.durationMs ?? 2500;
  const renders = workload();
  measure(renders, Math.max(300, durationMs / RUNS)); // warm-up: JIT, compiled templates, escaped entries
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) rates.push(measure(renders, durationMs / RUNS));
  rates.sort((a, b) => a - b);
  const templates = new Set(renders.map((r) => r.integration.templates[r.templateKey])).size;
  return { rendersPerSec: Math.round(rates[Math.floor(RUNS / 2)] ?? 0), templates, pairs: renders.length };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const result = benchRender(durationMs === undefined ? {} : { durationMs });
  const corpus =
    process.env.HOOKWIRE_SHARED_DIR === undefined
      ? "the own catalog"
      : "the own catalog and the framework corpus";
  process.stdout.write(
    `render: ${result.rendersPerSec.toLocaleString("en-US")} body renders/s (${result.templates} templates of ${corpus}, ${result.pairs} template × entry pairs in turn, one core, warm cache, median of ${RUNS} runs)\n`,
  );
}
