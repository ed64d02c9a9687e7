#!/usr/bin/env node
// Runs the compiled command, which `npm install` builds (see ../build.mjs); in a checkout whose
// sources changed since, the TypeScript itself through tsx, so that an edit is never run stale.
import { stale } from "../build.mjs";

async function load() {
  if (!stale()) return (await import("../dist/main.mjs")).main;
  const { register } = await import("tsx/esm/api");
  register();
  return (await import("../src/main.ts")).main;
}

const main = await load();
process.exitCode = await main(process.argv.slice(2));
