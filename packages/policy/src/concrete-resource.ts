/**
 * An access's resource string, parsed once into the flat form the matchers compare against.
 *
 * Ingest evaluates every entry against every hook, and one entry's resources repeat across hooks
 * and across entries (the same flags change again and again), so parses are kept in a small
 * module-wide cache shared by all compiled policies. Eviction is first-in first-out: refreshing
 * recency on every hit would cost two more Map operations per evaluation, and a miss only costs
 * one parse.
 */
import { readSpecifier, type SpecifierProblem } from "./specifier";

export interface ConcreteResource {
  readonly kind: "resource";
  /** The types level by level joined by ":" ("proj:env:flag"), or "acct"; compared in one go. */
  readonly shape: string;
  readonly keys: readonly string[];
  readonly tags: readonly (readonly string[])[];
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, ConcreteResource | SpecifierProblem>();

export function concreteResource(text: string): ConcreteResource | SpecifierProblem {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const parsed = toConcrete(text);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(text, parsed);
  return parsed;
}

function toConcrete(text: string): ConcreteResource | SpecifierProblem {
  const specifier = readSpecifier(text);
  if (specifier.kind === "problem") return specifier;
  if (specifier.kind === "acct") return { kind: "resource", shape: "acct", keys: [], tags: [] };
  return {
    kind: "resource",
    shape: specifier.levels.map((level) => level.type).join(":"),
    keys: specifier.levels.map((level) => level.key),
    tags: specifier.levels.map((level) => level.tags),
  };
}
