import type { CompiledTemplate, TemplateSegment } from "@hookwire/templates";
import type { FormVariable } from "./integration";

/**
 * The framework keeps error response bodies only when the URL's host is fixed: written in the
 * manifest, or coming only from enum form variables (whose values the manifest lists). A host
 * that a hook's settings or the entry could choose is not fixed, since its answers might come
 * from a service nobody meant to expose.
 *
 * Reads the URL template's top level, trying every enum value and both sides of each
 * `{{#if}}`, up to the end of the authority (the first `/`, `?` or `#` after `scheme://`):
 * until then only literal text, enum variables and such choices may appear. A variable before
 * that point, even in the user-info part (`https://{{user}}@host/`), could move the host.
 */
export function urlHostIsFixed(url: CompiledTemplate, variables: readonly FormVariable[]): boolean {
  const enums = new Map(
    variables.filter((v) => v.type === "enum").map((v) => [v.key, v.allowedValues ?? []]),
  );
  return fixedFrom(url.analysis.segments, "", enums, { steps: 1000 });
}

function fixedFrom(
  queue: readonly TemplateSegment[],
  read: string,
  enums: ReadonlyMap<string, readonly string[]>,
  budget: { steps: number },
): boolean {
  if (authorityEnds(read)) return true;
  // Many nested choices over many values: too many URLs to try, so not shown to be fixed.
  if (--budget.steps < 0) return false;
  const [head, ...rest] = queue;
  if (head === undefined) return read.includes("://");
  switch (head.kind) {
    case "text":
      return fixedFrom(rest, read + head.text, enums, budget);
    case "value": {
      const { path } = head;
      const values =
        path.fromRoot && path.parts.length === 1 ? enums.get(path.parts[0] as string) : undefined;
      return values?.every((value) => fixedFrom(rest, read + value, enums, budget)) ?? false;
    }
    case "choice":
      return head.branches.every((branch) => fixedFrom([...branch, ...rest], read, enums, budget));
    default:
      return false;
  }
}

function authorityEnds(read: string): boolean {
  const scheme = read.indexOf("://");
  return scheme !== -1 && /[/?#]/.test(read.slice(scheme + 3));
}
