import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import type { Command } from "../io";

/**
 * `hookwire bench [...]`: the benchmark harness of bench/ (the same as `npm run bench`), in a
 * process of its own since it starts and stops services; its options are passed through.
 */
export const runBench: Command = async (argv, io) => {
  const main = join(PROJECT_ROOT, "bench", "src", "main.ts");
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), main, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(io.stdout, { end: false });
  child.stderr.pipe(io.stderr, { end: false });
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
};
