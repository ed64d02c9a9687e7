#!/usr/bin/env node
// Runs the TypeScript source directly: hookwire needs no build step after `npm install`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
