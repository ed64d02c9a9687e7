/**
 * What became of the entries of one accepted request, per hook, kept for the idempotency window
 * so that `GET /v1/entries/:id` can say why an entry did or did not go somewhere. One structure
 * per request, not per entry: the hooks it was routed against are listed once, and each entry has
 * one short code per hook. An entry's claim holds the id of the request that accepted it.
 *
 * Codes: `q` queued, `f` filtered by the policy's default (no statement allowed any access),
 * `f<n>` filtered by deny statement n, `s` skipped, `r` render failed; the reasons of `s` and `r`
 * are kept beside them.
 */
export type TracedOutcome =
  | { outcome: "queued" }
  | { outcome: "filtered"; statement: number | null }
  | { outcome: "skipped" | "render_failed"; reason: string };

export interface RequestTrace {
  /** When the request was accepted (epoch ms). */
  at: number;
  /** The hooks its entries were routed against, in the order of each entry's codes. */
  hooks: string[];
  /** Per entry id, one outcome per hook. */
  entries: Record<string, TracedOutcome[]>;
}

interface StoredTrace {
  at: number;
  hooks: string[];
  /** Per entry id, its codes joined by commas: "q,f,f2,s". */
  codes: Record<string, string>;
  reasons?: Record<string, Record<string, string>>;
}

function codeOf(traced: TracedOutcome): string {
  switch (traced.outcome) {
    case "queued":
      return "q";
    case "filtered":
      return traced.statement === null ? "f" : `f${traced.statement}`;
    case "skipped":
      return "s";
    case "render_failed":
      return "r";
  }
}

export function encodeTrace(trace: RequestTrace): string {
  const stored: StoredTrace = { at: trace.at, hooks: trace.hooks, codes: {} };
  for (const [entryId, outcomes] of Object.entries(trace.entries)) {
    stored.codes[entryId] = outcomes.map(codeOf).join(",");
    outcomes.forEach((traced, i) => {
      if (traced.outcome !== "skipped" && traced.outcome !== "render_failed") return;
      stored.reasons ??= {};
      const reasons = stored.reasons[entryId] ?? {};
      reasons[String(i)] = traced.reason;
      stored.reasons[entryId] = reasons;
    });
  }
  return JSON.stringify(stored);
}

/**
 * One entry's outcomes, hook by hook; undefined when the request did not accept that entry (or
 * the value is not a trace).
 */
export function decodeEntryTrace(
  raw: string,
  entryId: string,
): { at: number; hooks: { hookId: string; traced: TracedOutcome }[] } | undefined {
  let stored: StoredTrace;
  try {
    stored = JSON.parse(raw) as StoredTrace;
  } catch {
    return undefined;
  }
  const joined = stored.codes?.[entryId];
  if (typeof joined !== "string") return undefined;
  const codes = joined === "" ? [] : joined.split(",");
  const reasons = stored.reasons?.[entryId] ?? {};
  return {
    at: stored.at,
    hooks: codes.map((code, i) => {
      const hookId = stored.hooks[i] ?? "";
      if (code === "q") return { hookId, traced: { outcome: "queued" } };
      if (code.startsWith("f")) {
        const statement = code.length > 1 ? Number(code.slice(1)) : null;
        return { hookId, traced: { outcome: "filtered", statement } };
      }
      const outcome = code === "r" ? "render_failed" : "skipped";
      return { hookId, traced: { outcome, reason: reasons[String(i)] ?? "" } };
    }),
  };
}

/**
 * An entry's claim once its request is committed: the request's id (its trace's key) and when
 * it was accepted, `<request>@<acceptedAt>`. The time finds the entry's compact delivery records
 * (see DeliveryLog). Claims kept before times were have the request's id alone.
 */
export function encodeClaim(request: string, acceptedAt: number): string {
  return `${request}@${acceptedAt}`;
}

export function decodeClaim(claim: string): { request: string; acceptedAt?: number } {
  const at = claim.lastIndexOf("@");
  const time = at < 0 ? "" : claim.slice(at + 1);
  // Digits only: "", "1e3" or "-4" after the "@" are no time of ours.
  return /^\d{1,16}$/.test(time)
    ? { request: claim.slice(0, at), acceptedAt: Number(time) }
    : { request: claim };
}
