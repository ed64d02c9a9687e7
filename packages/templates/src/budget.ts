import { TemplateError } from "./errors";
import { TEMPLATE_LIMITS } from "./limits";

/**
 * The work of the render that is running. Rendering is synchronous and a helper never renders
 * another template, so one render at a time counts; a nested render (none today) would save
 * and restore the counts through openBudget's result.
 */
let iterations = 0;
let workChars = 0;
let counting = false;

export interface SavedBudget {
  iterations: number;
  workChars: number;
  counting: boolean;
}

/** Starts counting for a render; returns what was counted before, for closeBudget. */
export function openBudget(): SavedBudget | undefined {
  const saved = counting ? { iterations, workChars, counting } : undefined;
  iterations = 0;
  workChars = 0;
  counting = true;
  return saved;
}

export function closeBudget(saved: SavedBudget | undefined): void {
  iterations = saved?.iterations ?? 0;
  workChars = saved?.workChars ?? 0;
  counting = saved?.counting ?? false;
}

/** One block iteration is about to run. */
export function chargeIteration(): void {
  if (!counting) return;
  iterations += 1;
  if (iterations > TEMPLATE_LIMITS.maxIterations) {
    throw new TemplateError(
      "TEMPLATES_ERR_RENDER_LIMIT",
      `rendering stopped after ${TEMPLATE_LIMITS.maxIterations} block iterations (#each or a block over a list): the template loops over more items than allowed`,
    );
  }
}

/** Text produced by an iteration, or read by a helper. */
export function chargeWork(chars: number): void {
  if (!counting) return;
  workChars += chars;
  if (workChars > TEMPLATE_LIMITS.maxWorkChars) {
    throw new TemplateError(
      "TEMPLATES_ERR_RENDER_LIMIT",
      `rendering stopped after producing or reading ${TEMPLATE_LIMITS.maxWorkChars} characters in loops and helpers: the template does more work than allowed`,
    );
  }
}
