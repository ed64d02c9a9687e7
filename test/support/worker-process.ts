import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ended, reapOnExit } from "./reaper";

const WORKER_MAIN = fileURLToPath(new URL("../../services/worker/src/main.ts", import.meta.url));

/** A worker in a process of its own, so that it can be killed for real. */
export function spawnWorker(env: Record<string, string>, logLevel = "warn"): ChildProcess {
  const child = reapOnExit(
    spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), WORKER_MAIN], {
      env: { ...process.env, ...env, LOG_LEVEL: logLevel, HOOKWIRE_WORKER_METRICS_PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  child.stdout?.resume(); // never let an unread pipe stall the worker
  return child;
}

/** Resolves when the process has written a log line containing `text`. */
export function logged(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
  });
}

export function exited(child: ChildProcess): Promise<void> {
  return ended(child) ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}
