/**
 * The known name closest to a misspelt one, for "did you mean" warnings. Edit distance is
 * quadratic, so over-long input (tenant text) is cut before comparing.
 */

const MAX_COMPARED = 64;

/** On a tie the earlier candidate wins, so callers list the likelier ones first. */
export function nearestName(name: string, known: readonly string[]): string | null {
  const probe = name.slice(0, MAX_COMPARED);
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    // Case slips ("updateon") count less than other edits: they are the commonest mistake.
    const distance =
      editDistance(probe, candidate) * 2 - (probe.toLowerCase() === candidate.toLowerCase() ? 1 : 0);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions, so "falg" is one
 * edit from "flag". Three rolling rows.
 */
export function editDistance(a: string, b: string): number {
  let before = new Uint32Array(b.length + 1);
  let previous = new Uint32Array(b.length + 1);
  let current = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cb = b.charCodeAt(j - 1);
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        best = Math.min(best, before[j - 2]! + 1);
      }
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}
