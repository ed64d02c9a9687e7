#!/usr/bin/env node
/**
 * Compiles the two services and the `hookwire` command to JavaScript, so that they run on plain
 * `node`: no TypeScript loader in the processes (tsx's loader thread held ~45 MiB of each one's
 * RSS, and its hooks ran on the hot path). `npm install` runs this by itself (the root package's
 * `prepare`), and `hookwire start` runs it again when a source file is newer than its output;
 * tests and development run the TypeScript itself.
 *
 * esbuild (the compiler tsx already runs on) bundles hookwire's own workspace packages into each
 * entry and leaves every other package to node_modules. Each output sits at the same depth below
 * the project root as the sources it is made of (`services/ingest/dist/main.mjs`), so paths the
 * code derives from its own location (PROJECT_ROOT) still hold.
 *
 * `node packages/cli/build.mjs [--if-stale]`: with --if-stale, does nothing when every output is
 * newer than every source file.
 */
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What is built: each entry into its package's `dist/`. */
export const ENTRIES = [
  { entry: "services/ingest/src/main.ts", outdir: "services/ingest/dist" },
  { entry: "services/worker/src/main.ts", outdir: "services/worker/dist" },
  { entry: "packages/cli/src/main.ts", outdir: "packages/cli/dist" },
];

/** Written last: when the build finished (its mtime), for --if-stale. */
const STAMP = "packages/cli/dist/.built";

/** The packages of the workspaces that are not hookwire's own: left to node_modules. */
function externals() {
  const names = new Set();
  for (const group of ["packages", "services"]) {
    for (const name of readdirSync(join(ROOT, group))) {
      let manifest;
      try {
        manifest = JSON.parse(readFileSync(join(ROOT, group, name, "package.json"), "utf8"));
      } catch {
        continue;
      }
      for (const dependency of Object.keys(manifest.dependencies ?? {}))
        if (!dependency.startsWith("@hookwire/")) names.add(dependency);
    }
  }
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

function newestSource(root) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const group of ["packages", "services"])
    for (const name of readdirSync(join(root, group))) {
      const src = join(root, group, name, "src");
      try {
        walk(src);
      } catch {
        // A package without sources.
      }
    }
  return newest;
}

/** Whether the build of the checkout at `root` is missing or older than one of its source files. */
export function stale(root = ROOT) {
  try {
    return statSync(join(root, STAMP)).mtimeMs < newestSource(root);
  } catch {
    return true;
  }
}

/**
 * The services' old space, capped. Under a cap of about 2 GiB V8 lets the heap grow by a smaller
 * factor of what survives each collection: a draining worker peaked at 157 MiB of RSS instead of
 * 226 (`npm run compare`, 7 rounds), for ~6 % more of its CPU; the services never need that much
 * heap. The image sets the same in its NODE_OPTIONS (Dockerfile), and NODE_OPTIONS that set it
 * win here too.
 */
export const HEAP_ARGS = ["--max-old-space-size=1024"];

/**
 * The node arguments that run a service of the checkout at `root` in environment `env`: its
 * compiled file when that checkout's build is fresh, else its TypeScript through tsx (a checkout
 * being edited, or one from before the build existed).
 */
export function serviceArgs(name, root = ROOT, env = process.env) {
  const heap = /--max-old-space-size/.test(env.NODE_OPTIONS ?? "") ? [] : HEAP_ARGS;
  if (!stale(root)) return [...heap, join(root, "services", name, "dist", "main.mjs")];
  return [
    ...heap,
    "--import",
    import.meta.resolve("tsx/esm"),
    join(root, "services", name, "src", "main.ts"),
  ];
}

export async function build() {
  const { build: esbuild } = await import("esbuild");
  const external = externals();
  for (const { entry, outdir } of ENTRIES) {
    // Built beside, then moved in place: no service ever starts from a half-written file.
    const building = join(ROOT, `${outdir}.building-${process.pid}`);
    await esbuild({
      entryPoints: { main: join(ROOT, entry) },
      outdir: building,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: true,
      external,
      logLevel: "warning",
    });
    rmSync(join(ROOT, outdir), { recursive: true, force: true });
    renameSync(building, join(ROOT, outdir));
  }
  writeFileSync(join(ROOT, STAMP), `${new Date().toISOString()}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--if-stale") && !stale()) process.exit(0);
  await build();
}
