import type { CompiledTemplate } from "@hookwire/templates";
import type { FormVariable } from "./integration";

// Stands for an enum variable's value inside the URL read so far.
const ENUM_VALUE = "\u0001";

/**
 * The framework keeps error response bodies only when the URL's host is fixed: written in the
 * manifest, or coming only from enum form variables (whose values the manifest lists). A host
 * that a hook's settings or the entry could choose is not fixed, since its answers might come
 * from a service nobody meant to expose.
 *
 * Reads the URL template's top level up to the end of the authority (the first `/`, `?` or `#`
 * after the scheme): until then only literal text and plain `{{enumVariable}}` may appear.
 */
export function urlHostIsFixed(url: CompiledTemplate, variables: readonly FormVariable[]): boolean {
  const enums = new Map(
    variables.filter((v) => v.type === "enum").map((v) => [v.key, v.allowedValues ?? []]),
  );
  let read = "";
  for (const segment of url.analysis.segments) {
    if (segment.kind === "text") {
      read += segment.text;
      if (authorityEnds(read)) return true;
      continue;
    }
    if (segment.kind === "logic") return false;
    const { path } = segment;
    const values = path.fromRoot && path.parts.length === 1 ? enums.get(path.parts[0] as string) : undefined;
    if (values === undefined) return false;
    // An enum at the very start must carry the scheme, or the host is not where it seems.
    if (read === "" && !values.every((value) => value.includes("://"))) return false;
    read += ENUM_VALUE;
  }
  return read !== "";
}

function authorityEnds(read: string): boolean {
  const scheme = read.indexOf("://");
  let start: number;
  if (scheme !== -1) start = scheme + 3;
  else if (read.startsWith(ENUM_VALUE)) start = 1;
  else return false;
  return /[/?#]/.test(read.slice(start));
}
