/**
 * A real Redis Sentinel group of a test's own, on loopback: one master, one replica
 * (`--replicaof`), three sentinels (`redis-server <conf> --sentinel`, quorum 2) watching it as
 * `mymaster`, with a short `down-after-milliseconds` so that a failover takes seconds. Every
 * process is this helper's child, stopped by its own handle (never by name); every wait is on
 * an event a process prints (Ready, sync finished, +switch-master), never a timer.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ended, reapOnExit } from "./reaper";
import { freePort } from "./redis-server";

export const SENTINEL_MASTER_NAME = "mymaster";
const HOST = "127.0.0.1";

export interface SentinelGroupOptions {
  /** A master unreachable this long is down (sentinel's down-after-milliseconds). */
  downAfterMs?: number;
  /** sentinel's failover-timeout. */
  failoverTimeoutMs?: number;
}

/** One redis-server of the group (master or replica), which a test may kill and start again. */
export interface GroupNode {
  readonly port: number;
  /** What this node printed since it was (re)started. */
  readonly output: string[];
  /** SIGKILL, as a crashed machine: no shutdown, no last write. Resolves once it has exited. */
  kill(): Promise<void>;
  /**
   * Starts it again on its port, empty (no persistence), as a restarted machine would be: as the
   * replica of `replicaOf` (the port of the master now), as an orchestrator brings a node back.
   * (Left to restart as a master, it would wait for the sentinels to demote it, 8 s and more.)
   */
  restart(replicaOf: number): Promise<void>;
  /** Resolves once it printed a line matching `pattern` since it was (re)started. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export interface SentinelGroup {
  readonly name: string;
  readonly sentinelPorts: readonly number[];
  /** The first master, then the first replica. */
  readonly nodes: readonly [GroupNode, GroupNode];
  /** What hookwire needs to use the group: REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_URL. */
  readonly env: Record<string, string>;
  /**
   * Resolves with the new master's port once a sentinel announces `+switch-master` (a failover
   * ended) after this call.
   */
  switched(timeoutMs?: number): Promise<number>;
  /** Everything the sentinels printed, for a failing test's message. */
  sentinelLogs(): string;
  stop(): Promise<void>;
}

/** A child whose stdout is collected, and a wait for a line in it: an event, never a timer. */
class Watched {
  readonly output: string[] = [];
  readonly child: ChildProcess;
  readonly #label: string;

  constructor(label: string, command: string, args: string[]) {
    this.#label = label;
    this.child = reapOnExit(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
    this.child.stdout?.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  /** Resolves once the output matches `pattern` `times` times; rejects if the process ends first. */
  printed(pattern: RegExp, timeoutMs = 15_000, times = 1): Promise<void> {
    const global = new RegExp(
      pattern.source,
      pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`,
    );
    const seen = () => (this.output.join("").match(global) ?? []).length >= times;
    if (seen()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.child.stdout?.off("data", check);
        this.child.off("exit", exited);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (seen()) done();
      };
      const exited = () =>
        done(new Error(`${this.#label} exited before printing ${pattern}:\n${this.output.join("")}`));
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `${this.#label} did not print ${pattern} within ${timeoutMs} ms:\n${this.output.join("")}`,
            ),
          ),
        timeoutMs,
      );
      // After the collecting listener (added in the constructor): `output` already holds the chunk.
      this.child.stdout?.on("data", check);
      this.child.once("exit", exited);
    });
  }

  kill(): Promise<void> {
    const child = this.child;
    if (ended(child)) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}

function serverArgs(port: number, dir: string): string[] {
  return [
    ...["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir],
    // A replica (re)joining is sent the data at once, not after the default 5 s of waiting for others.
    ...["--repl-diskless-sync-delay", "0"],
  ];
}

function groupNode(
  label: string,
  port: number,
  dir: string,
  firstArgs: string[],
): GroupNode & { start(): Promise<void> } {
  let current: Watched | undefined;
  const start = async (args: string[]) => {
    current = new Watched(label, "redis-server", [...serverArgs(port, dir), ...args]);
    await current.printed(/Ready to accept connections/);
  };
  return {
    port,
    get output() {
      return current?.output ?? [];
    },
    start: () => start(firstArgs),
    restart: (replicaOf) => start(["--replicaof", HOST, String(replicaOf)]),
    kill: async () => {
      await current?.kill();
    },
    printed: (pattern, timeoutMs) =>
      current?.printed(pattern, timeoutMs) ?? Promise.reject(new Error(`${label} not started`)),
  };
}

/** Starts the group and resolves once every sentinel knows the replica and the two other sentinels. */
export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-sentinel-"));
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  if (masterPort === undefined || replicaPort === undefined) throw new Error("no ports");
  const sentinels: Watched[] = [];
  const nodes: ReturnType<typeof groupNode>[] = [];
  const stop = async () => {
    await Promise.all([...sentinels.map((s) => s.kill()), ...nodes.map((n) => n.kill())]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [name, port, args] of [
      ["master", masterPort, []],
      ["replica", replicaPort, ["--replicaof", HOST, String(masterPort)]],
    ] as const) {
      mkdirSync(join(dir, name));
      const node = groupNode(`redis ${name} :${port}`, port, join(dir, name), [...args]);
      nodes.push(node);
      await node.start();
    }
    await nodes[1]?.printed(/MASTER <-> REPLICA sync: Finished with success/);

    for (const [index, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${index}.conf`);
      // Sentinel rewrites its own file (what it learnt of the group), so each has one of its own.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${options.failoverTimeoutMs ?? 5_000}`,
          "",
        ].join("\n"),
      );
      sentinels.push(new Watched(`sentinel :${port}`, "redis-server", [conf, "--sentinel"]));
    }
    // Each sentinel finds the replica through the master's INFO, and the others through their
    // hello messages (every 2 s): only then can two of them agree the master is down and elect
    // a leader.
    await Promise.all(
      sentinels.map(async (sentinel) => {
        await sentinel.printed(/\+slave slave/, 15_000);
        await sentinel.printed(/\+sentinel sentinel/, 15_000, 2);
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const [master, replica] = nodes as unknown as [GroupNode, GroupNode];
  return {
    name: SENTINEL_MASTER_NAME,
    sentinelPorts,
    nodes: [master, replica],
    env: {
      REDIS_SENTINELS: sentinelPorts.map((port) => `${HOST}:${port}`).join(","),
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
      // With sentinels, only the scheme and database of the URL count (see @hookwire/queue).
      REDIS_URL: "redis://127.0.0.1:6379/0",
    },
    switched(timeoutMs = 20_000) {
      const pattern = new RegExp(`\\+switch-master ${SENTINEL_MASTER_NAME} \\S+ \\d+ \\S+ (\\d+)`, "g");
      const before = sentinels.map((s) => (s.output.join("").match(pattern) ?? []).length);
      return Promise.any(
        sentinels.map(async (sentinel, i) => {
          await sentinel.printed(pattern, timeoutMs, (before[i] ?? 0) + 1);
          const all = [...sentinel.output.join("").matchAll(pattern)];
          return Number(all[all.length - 1]?.[1]);
        }),
      );
    },
    sentinelLogs: () =>
      sentinels.map((s, i) => `--- sentinel ${i} :${sentinelPorts[i]}\n${s.output.join("")}`).join("\n"),
    stop,
  };
}
