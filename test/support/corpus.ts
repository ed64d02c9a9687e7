/**
 * The integration framework's corpus (ARCHITECTURE.md, "Test data"): real integrations, sample
 * contexts and schemas, read at run time from `$HOOKWIRE_SHARED_DIR/compat/ld-integration-framework`
 * and never copied into the repository.
 *
 * Every test file that reads it has one test calling `expectCorpus`, so that a missing corpus is
 * never a silent pass. In CI (`CI` set, as CI systems do; `.ci/run` points HOOKWIRE_SHARED_DIR at
 * `../shared`) it fails: CI always has the corpus, and a compatibility suite that quietly stopped
 * running there would hide every regression it exists to catch. On a developer's machine without
 * it, that test is skipped with a note naming what did not run. HOOKWIRE_SHARED_DIR set to a folder
 * without the corpus fails everywhere: someone meant the suite to run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "vitest";

const sharedDir = process.env.HOOKWIRE_SHARED_DIR || undefined;
const candidate = sharedDir === undefined ? undefined : join(sharedDir, "compat", "ld-integration-framework");

/** The corpus folder when it is there; undefined otherwise (the corpus tests are then skipped). */
export const corpusDir: string | undefined =
  candidate !== undefined && existsSync(join(candidate, "integrations")) ? candidate : undefined;

/** Whether this run is CI's: `CI` set to anything but empty, "0" or "false". */
export function runningInCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
}

/**
 * The body of a corpus test file's check that its corpus tests run. `what` names them, for the
 * message: "the integration-framework compatibility suite of @hookwire/manifest".
 */
export function expectCorpus(context: TestContext, what: string): void {
  if (corpusDir !== undefined) return;
  if (sharedDir !== undefined) {
    throw new Error(
      `HOOKWIRE_SHARED_DIR=${sharedDir} has no compat/ld-integration-framework/integrations: ${what} cannot run`,
    );
  }
  if (runningInCi()) {
    throw new Error(
      `HOOKWIRE_SHARED_DIR is not set in CI (CI=${process.env.CI}): ${what} did NOT run; CI must have the corpus`,
    );
  }
  console.warn(`NOTICE: HOOKWIRE_SHARED_DIR is not set: ${what} did NOT run`);
  context.skip(`HOOKWIRE_SHARED_DIR is not set: ${what} did not run`);
}
