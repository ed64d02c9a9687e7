import { readFileSync } from "node:fs";

/** A fixture entry of test/fixtures/entries, with fields overridden. */
export function entryFixture(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const entry = JSON.parse(
    readFileSync(new URL(`../fixtures/entries/${name}.json`, import.meta.url), "utf8"),
  );
  return { ...entry, ...overrides };
}
