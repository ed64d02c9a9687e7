import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { serviceArgs } from "../../packages/cli/build.mjs";

/**
 * One hookwire service (ingest or worker) as operators run it: `node services/<name>/dist/main.mjs`
 * (compiled, see packages/cli/build.mjs; its TypeScript through tsx when the checkout's build is
 * missing or older than its sources) with its settings in the environment, in a process of its own
 * so that its CPU, memory and event loop are its own.
 */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Its last lines of output, for the report when it fails. */
  tail(): string;
  /** SIGTERM (graceful: it finishes in-flight work and, with --cpu-prof, writes its profile). */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

/**
 * HOOKWIRE_* settings of the harness's own environment, handed on to both services, and BENCH_ROOT
 * (the services run from that checkout instead of this one): `HOOKWIRE_WORKER_CONCURRENCY=128
 * npm run bench` tries a setting as is.
 */
export function passedEnv(): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    const handedOn =
      (name.startsWith("HOOKWIRE_") && name !== "HOOKWIRE_SHARED_DIR") || name === "BENCH_ROOT";
    if (handedOn && value !== undefined) passed[name] = value;
  }
  return passed;
}

/**
 * The settings every harness starts the services with: a Redis and a key prefix of the run's own,
 * loopback ports, loopback allowed through the SSRF guard, no practical rate limit, warnings only,
 * and a short shutdown grace (a dead hook's hanging requests must not hold a stop for 20 s).
 */
export function serviceEnv(run: {
  redisUrl: string;
  prefix: string;
  apiKey: string;
  secretKey: string;
  ingestPort: number;
  metricsPort: number;
}): Record<string, string> {
  return {
    REDIS_URL: run.redisUrl,
    HOOKWIRE_QUEUE_PREFIX: run.prefix,
    HOOKWIRE_API_KEY: run.apiKey,
    HOOKWIRE_SECRET_KEY: run.secretKey,
    HOOKWIRE_HOST: "127.0.0.1",
    HOOKWIRE_PORT: String(run.ingestPort),
    HOOKWIRE_WORKER_METRICS_PORT: String(run.metricsPort),
    HOOKWIRE_ALLOWED_NETWORKS: "127.0.0.0/8",
    HOOKWIRE_RATE_LIMIT_PER_MINUTE: "100000000",
    LOG_LEVEL: "warn",
    HOOKWIRE_SHUTDOWN_GRACE_MS: "3000",
  };
}

export interface ServiceOptions {
  /**
   * The services' environment. `BENCH_ROOT` in it runs the service from another checkout
   * instead of this one (an A/B of two versions of the code: see bench/README.md);
   * `BENCH_NODE_ARGS`, node flags for both services' command lines (those NODE_OPTIONS does not
   * take), `BENCH_NODE_ARGS_WORKER` or `_INGEST` for one of them.
   */
  env: Record<string, string>;
  /** Directory for a V8 CPU profile of the process, written when it stops. */
  cpuProfileDir?: string;
}

const TAIL_LINES = 40;

export function startService(name: "ingest" | "worker", options: ServiceOptions): ServiceProcess {
  const nodeArgs: string[] = [];
  if (options.cpuProfileDir !== undefined) {
    // One folder per service: node writes one profile per thread (the main one, and tsx's loader
    // when the service runs its TypeScript).
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${join(options.cpuProfileDir, name)}`);
  }
  // For profiling runs: BENCH_NODE_OPTIONS_WORKER="--inspect=127.0.0.1:9331", or
  // BENCH_NODE_OPTIONS for both services.
  const nodeOptions =
    process.env[`BENCH_NODE_OPTIONS_${name.toUpperCase()}`] ?? process.env.BENCH_NODE_OPTIONS;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...options.env,
  };
  const flags = `${options.env.BENCH_NODE_ARGS ?? ""} ${options.env[`BENCH_NODE_ARGS_${name.toUpperCase()}`] ?? ""}`;
  nodeArgs.push(...flags.split(" ").filter((arg) => arg !== ""));
  nodeArgs.push(...serviceArgs(name, options.env.BENCH_ROOT ?? PROJECT_ROOT, env));
  const child: ChildProcess = spawn(process.execPath, nodeArgs, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line === "") continue;
      lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return {
    name,
    pid: child.pid ?? 0,
    tail: () => lines.join("\n"),
    exited,
    async stop(graceMs = 15e3) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port free on loopback right now, for a service that must be told its port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, or throws after `timeoutMs` or when the process ends. */
export async function waitUntilUp(url: string, service: ServiceProcess, timeoutMs = 30e3): Promise<void> {
  let ended = false;
  void service.exited.then(() => {
    ended = true;
  });
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (ended) throw new Error(`the ${service.name} process ended while starting:\n${service.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the ${service.name} process did not answer ${url} within ${timeoutMs} ms:\n${service.tail()}`,
  );
}
