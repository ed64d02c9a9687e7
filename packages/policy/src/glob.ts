/**
 * `*`-only glob matching in linear time, without regular expressions.
 *
 * Patterns are tenant input, so a backtracking matcher (or a RegExp built from the pattern) would
 * let one policy stall a worker: `a*a*a*a*a*a*a*a*a*a*a*b` against 10 000 `a` is the classic case.
 * A `*`-only pattern is `prefix*piece*piece*…*suffix`: the prefix must start the text, the suffix
 * end it, and each middle piece can be taken at its leftmost occurrence after the previous one
 * (taking it later never helps). Each piece is found with Knuth-Morris-Pratt, so the whole match
 * reads every text character at most a constant number of times: O(text + pattern).
 */

/** Counts character comparisons, so tests can assert the bound without timing anything. */
export interface StepMeter {
  steps: number;
}

/** The three kinds of pattern, each with its own matching path. */
const Shape = {
  /** `*` (or `**`…): matches everything. */
  Any: 0,
  /** No star: plain equality. */
  Literal: 1,
  /** Stars, with literal pieces between them. */
  Pieces: 2,
} as const;
type Shape = (typeof Shape)[keyof typeof Shape];

export class Glob {
  readonly source: string;
  private readonly shape: Shape;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly middles: readonly string[];
  private readonly failures: readonly Int32Array[];
  /** Shortest text that can match: every literal character of the pattern. */
  private readonly minLength: number;

  constructor(source: string) {
    this.source = source;
    const parts = source.split("*");
    if (parts.length === 1) {
      this.shape = Shape.Literal;
      this.prefix = source;
      this.suffix = "";
      this.middles = [];
      this.failures = [];
      this.minLength = source.length;
      return;
    }
    this.prefix = parts[0] ?? "";
    this.suffix = parts[parts.length - 1] ?? "";
    // Consecutive stars give empty pieces, which match anywhere: drop them.
    this.middles = parts.slice(1, -1).filter((piece) => piece.length > 0);
    this.failures = this.middles.map(failureTable);
    this.minLength = parts.reduce((sum, piece) => sum + piece.length, 0);
    this.shape = this.minLength === 0 ? Shape.Any : Shape.Pieces;
  }

  /** True when the pattern has a star (so it is more than a literal). */
  get isWildcard(): boolean {
    return this.shape !== Shape.Literal;
  }

  /** True when the pattern matches every string. */
  get matchesEverything(): boolean {
    return this.shape === Shape.Any;
  }

  match(text: string, meter?: StepMeter): boolean {
    switch (this.shape) {
      case Shape.Any:
        return true;
      case Shape.Literal:
        if (meter !== undefined) meter.steps += Math.min(text.length, this.prefix.length) + 1;
        return text === this.prefix;
      default:
        return this.matchPieces(text, meter);
    }
  }

  private matchPieces(text: string, meter: StepMeter | undefined): boolean {
    const { prefix, suffix, middles } = this;
    // Cheap rejections first: they settle most non-matches, the pathological pattern among them.
    if (text.length < this.minLength) {
      if (meter !== undefined) meter.steps += 1;
      return false;
    }
    if (meter !== undefined) meter.steps += prefix.length + suffix.length + 1;
    if (!text.startsWith(prefix) || !text.endsWith(suffix)) return false;
    let from = prefix.length;
    const end = text.length - suffix.length;
    for (let i = 0; i < middles.length; i++) {
      const found = search(text, from, end, middles[i]!, this.failures[i]!, meter);
      if (found < 0) return false;
      from = found + middles[i]!.length;
    }
    return true;
  }
}

/** KMP failure function: for each prefix of `piece`, the length of its longest proper border. */
function failureTable(piece: string): Int32Array {
  const table = new Int32Array(piece.length);
  let border = 0;
  for (let i = 1; i < piece.length; i++) {
    while (border > 0 && piece.charCodeAt(i) !== piece.charCodeAt(border)) border = table[border - 1]!;
    if (piece.charCodeAt(i) === piece.charCodeAt(border)) border++;
    table[i] = border;
  }
  return table;
}

/** Index of the first occurrence of `piece` in text[from, end), or -1. Linear in end - from. */
function search(
  text: string,
  from: number,
  end: number,
  piece: string,
  failure: Int32Array,
  meter: StepMeter | undefined,
): number {
  let matched = 0;
  let steps = 0;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    while (matched > 0 && c !== piece.charCodeAt(matched)) {
      matched = failure[matched - 1]!;
      steps++;
    }
    steps++;
    if (c === piece.charCodeAt(matched)) matched++;
    if (matched === piece.length) {
      if (meter !== undefined) meter.steps += steps;
      return i - piece.length + 1;
    }
  }
  if (meter !== undefined) meter.steps += steps;
  return -1;
}
