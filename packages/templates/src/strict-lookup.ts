/**
 * Strict rendering (hookwire validate) collects every missing field of a render instead of
 * stopping at the first, as Handlebars' strict mode does: compiled strict code reads each path
 * segment through strictLookup, which notes a missing one and carries on with nothing.
 */

export interface MissingSegment {
  /** The path segment that was not there. */
  segment: string;
  /** Where the path is written: 1-based line and column. */
  line: number;
  column: number;
}

let collected: MissingSegment[] | undefined;

/** Runs a strict render, returning the missing segments it read (in order, each place once). */
export function collectMissing(render: () => string): { output: string; missing: MissingSegment[] } {
  const outer = collected;
  collected = [];
  try {
    const output = render();
    return { output, missing: collected };
  } finally {
    collected = outer;
  }
}

type Lookup = (parent: unknown, name: string) => unknown;

/**
 * One segment of a path in strict code. `lookup` is Handlebars' own property lookup (which
 * keeps prototype properties out of reach). A parent that is undefined was itself missing and
 * already noted, so only the first missing segment of a path is reported.
 */
export function strictLookup(
  lookup: Lookup,
  parent: unknown,
  name: string,
  location: { line: number; column: number } | null,
  required: boolean,
): unknown {
  if (parent === undefined) return undefined;
  const present = parent !== null && name in Object(parent);
  if (!present) {
    if (required && collected !== undefined && location !== null) {
      const already = collected.some((m) => m.line === location.line && m.column === location.column + 1);
      if (!already) collected.push({ segment: name, line: location.line, column: location.column + 1 });
    }
    return undefined;
  }
  return lookup(parent, name);
}
