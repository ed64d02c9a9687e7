/**
 * Every package installed runs on the oldest Node the project supports (`engines` in the root
 * package.json): `npm install` warns EBADENGINE for none. A dependency that moved to a newer Node
 * is pinned in `overrides` (content-disposition 2 and cookie 1 have the same API as the versions
 * that require Node 22).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { expect, test } from "vitest";

const semver = createRequire(import.meta.url)("semver") as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
  dev?: boolean;
}

test("every locked package's engines accept the oldest Node the project supports", () => {
  const root = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
    engines: { node: string };
  };
  const oldest = semver.minVersion(root.engines.node)?.version;
  expect(oldest, "the root package.json names a Node range").toMatch(/^20\./);
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockedPackage>;
  };
  const refused: string[] = [];
  for (const [path, locked] of Object.entries(lock.packages)) {
    const range = Array.isArray(locked.engines) ? undefined : locked.engines?.node;
    if (range === undefined || !path.includes("node_modules/")) continue;
    if (!semver.satisfies(oldest ?? "", range)) refused.push(`${path}@${locked.version}: node ${range}`);
  }
  expect(refused).toEqual([]);
});
