import type { ChildProcess } from "node:child_process";

/**
 * The servers a test file starts (redis-server, sentinels, workers) are killed when the file's
 * process exits, whatever the tests did: a test that timed out while its Redis was frozen
 * (SIGSTOP) had left that Redis running, frozen, after the run. A stopped process dies of
 * SIGKILL all the same. One listener for all of them; a child leaves the set when it exits.
 */
const running = new Set<ChildProcess>();
let listening = false;

function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Kills `child` when this process exits, if it is still running then. Returns it. */
export function reapOnExit<T extends ChildProcess>(child: T): T {
  if (!listening) {
    process.once("exit", killAll);
    listening = true;
  }
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Whether the child has ended (by its own exit or by a signal). */
export function ended(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
