import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ended, reapOnExit } from "./reaper";

/** A redis-server of a test's own, on a free port, that the test may stop and start again. */
export interface OwnRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a signal to the running redis-server (SIGSTOP freezes it, SIGCONT thaws it). */
  signal(signal: NodeJS.Signals): void;
}

/** A TCP port free on loopback now (the OS's pick), for a server a test starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface OwnRedisOptions {
  /** Keep an append-only file (appendfsync everysec); default off, like the machine's Redis. */
  appendonly?: boolean;
  /** More redis-server arguments, e.g. `["--rename-command", "CONFIG", ""]`. */
  args?: string[];
}

export async function ownRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hookwire-redis-"));
  let child: ChildProcess | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child !== undefined && !ended(child))
        throw new Error(`the redis-server on ${port} is running already`);
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          options.appendonly ? "yes" : "no",
          "--dir",
          dir,
          ...(options.args ?? []),
        ],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const started = reapOnExit(child);
      await new Promise<void>((resolve, reject) => {
        let seen = "";
        started.stdout?.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes("Ready to accept connections")) resolve();
        });
        started.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
      });
    },
    signal(signal) {
      child?.kill(signal);
    },
    async stop() {
      const running = child;
      // Killed by a signal, a process has no exit code, and its exit event has been emitted.
      if (running === undefined || ended(running)) return;
      await new Promise<void>((resolve) => {
        running.once("exit", () => resolve());
        running.kill("SIGKILL");
      });
    },
  };
}
