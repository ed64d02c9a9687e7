/**
 * Every setting the config reads from the environment is in the README's settings, by its full
 * name, so that an operator finds each one where the README says they all are.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { expect, test } from "vitest";

test("every environment setting the config reads is named in the README", () => {
  const config = readFileSync(join(PROJECT_ROOT, "packages", "config", "src", "config.ts"), "utf8");
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const names = [...new Set(config.match(/\b(?:HOOKWIRE|REDIS)_[A-Z0-9_]+\b/g) ?? [])];
  expect(names.length).toBeGreaterThan(25);
  expect(names.filter((name) => !readme.includes(name))).toEqual([]);
});
