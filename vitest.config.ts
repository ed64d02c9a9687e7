import { defineConfig } from "vitest/config";

// One project per workspace package, plus the cross-package suite in test/. Tests run from the
// TypeScript source: no build step comes before them.
const workspaces = [
  "packages/policy",
  "packages/templates",
  "packages/manifest",
  "packages/entries",
  "packages/delivery",
  "packages/queue",
  "packages/store",
  "packages/cli",
  "packages/config",
  "services/ingest",
  "services/worker",
];

export default defineConfig({
  test: {
    projects: [
      { test: { name: "@hookwire/bench", root: "bench", include: ["src/**/*.test.ts"] } },
      ...workspaces.map((root) => ({
        test: {
          name: `@hookwire/${root.split("/")[1]}`,
          root,
          include: ["src/**/*.test.ts"],
        },
      })),
      {
        test: {
          name: "e2e",
          root: "test",
          include: ["**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
