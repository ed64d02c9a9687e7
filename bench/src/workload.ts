import { PROJECT_ROOT } from "@hookwire/config";
import { normaliseBody } from "@hookwire/entries";
import { catalogDirs, loadCatalog, renderBody, signatureHeader } from "@hookwire/manifest";

/** The integration every bench hook uses: the entry posted as JSON, signed with the hook's secret. */
export const BENCH_INTEGRATION = "generic-webhook";

/**
 * A flag change of the size a real one has (~900 bytes posted), allowed by the integration's
 * default policy (`proj/*:env/*:flag/*`). Only `_id` changes from entry to entry.
 */
export function benchEntry(id: string): Record<string, unknown> {
  return {
    _id: id,
    kind: "flag",
    key: "checkout-redesign",
    name: "Checkout redesign",
    verbKind: "updateOn",
    titleVerb: "turned on the flag",
    timestamp: {
      milliseconds: 1764115200000,
      seconds: 1764115200,
      rfc3339: "2025-11-26T00:00:00Z",
      simple: "2025-11-26 00:00:00",
    },
    title: {
      plainText: "Ada Lovelace turned on the flag Checkout redesign in 'Production'",
      markdown: "[Ada Lovelace](mailto:ada@example.com) turned on the flag Checkout redesign in `Production`",
      html: '<a href="mailto:ada@example.com">Ada Lovelace</a> turned on the flag Checkout redesign',
    },
    details: { plainText: "", markdown: "", html: "" },
    comment: "Ship it",
    project: {
      key: "shop",
      name: "Shop",
      tags: ["web"],
      environment: { key: "production", name: "Production", tags: ["critical"] },
    },
    member: { _id: "m-0001", email: "ada@example.com", firstName: "Ada", lastName: "Lovelace" },
    tags: ["checkout"],
    target: { name: "Checkout redesign", _id: "t-0001" },
  };
}

export interface EntryBatches {
  /** Request bodies, serialised before any clock starts: the harness's JSON work is not timed. */
  bodies: string[];
  entries: number;
}

/** Set apart the ids of every call: ingest delivers an id it has seen once only. */
let series = 0;

/** `count` entries with ids `<label>-<series>-<n>`, `perBatch` to a request body. */
export function entryBatches(label: string, count: number, perBatch: number): EntryBatches {
  const bodies: string[] = [];
  const prefix = `${label}-${series++}`;
  for (let start = 0; start < count; start += perBatch) {
    const batch: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(count, start + perBatch); i++) batch.push(benchEntry(`${prefix}-${i}`));
    bodies.push(JSON.stringify(batch));
  }
  return { bodies, entries: count };
}

export interface RenderedRequest {
  body: string;
  /** Flat [name, value, …], as the worker's sender sends them (signature included). */
  headers: string[];
}

/**
 * The request the worker sends for a bench entry, built by the same code (normalisation,
 * integration body, HMAC signature), for the baseline to send straight to the receiver.
 */
export async function renderedRequest(secret: string): Promise<RenderedRequest> {
  const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, {}));
  const integration = catalog.get(BENCH_INTEGRATION);
  if (integration === undefined) throw new Error(`the catalog has no ${BENCH_INTEGRATION} integration`);
  const { entries, issues } = normaliseBody(benchEntry("baseline-0"));
  if (issues.length > 0 || entries[0] === undefined)
    throw new Error(`the bench entry is invalid: ${JSON.stringify(issues)}`);
  const formValues = { url: "http://127.0.0.1/", secret };
  const { body } = renderBody(integration, entries[0], formValues);
  if (body === null) throw new Error("the bench entry rendered an empty body");
  const signature = signatureHeader(integration, formValues, body);
  const headers = ["content-type", "application/json", "user-agent", "hookwire/0.1.0"];
  if (signature !== undefined) headers.push(signature.name, signature.value);
  headers.push("x-hookwire-delivery", "baseline.baseline-0", "x-hookwire-attempt", "1");
  return { body, headers };
}
