import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { eventually } from "./support/receiver";

const REAPER = new URL("./support/reaper.ts", import.meta.url).href;

/** Running or stopped, not ended: /proc has it, and not as a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== undefined && state !== "Z";
  } catch {
    return false;
  }
}

test("a server a test process started and froze is killed when that process exits", async () => {
  // A test process: it starts a server, freezes it as the Redis freeze test does, and exits
  // without stopping it.
  const script = `
    import { spawn } from "node:child_process";
    const { reapOnExit } = await import(${JSON.stringify(REAPER)});
    const server = reapOnExit(spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" }));
    server.kill("SIGSTOP");
    process.stdout.write(String(server.pid));
    process.exit(0);
  `;
  const parent = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx/esm"), "--input-type=module", "-e", script],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let printed = "";
  parent.stdout.on("data", (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => parent.once("exit", resolve));
  expect(code).toBe(0);
  const pid = Number(printed);
  expect(Number.isInteger(pid) && pid > 0).toBe(true);
  try {
    await eventually(() => !alive(pid), 5_000, `the frozen server ${pid} gone`);
  } finally {
    // Left running only if the reaper failed: this test started it, so it stops it.
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});
