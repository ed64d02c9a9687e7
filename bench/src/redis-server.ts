import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import { redisAnswers as answers, connectRedis, DEFAULT_REDIS_URL, dropPrefix } from "@hookwire/queue";

export { dropPrefix };

const LOCAL = { host: "127.0.0.1", port: 6379 };

export interface RedisTarget {
  url: string;
  /** Set when the harness started redis-server itself; stopped at the end. */
  started?: ChildProcess;
}

/**
 * The Redis to measure against: REDIS_URL, else the one on 127.0.0.1:6379, else a redis-server
 * started as `hookwire start` starts it (append-only file on, data in .data/redis).
 */
export async function ensureRedis(say: (line: string) => void): Promise<RedisTarget> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv };
  if (await answers(LOCAL.host, LOCAL.port)) return { url: DEFAULT_REDIS_URL };
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error !== undefined) {
    throw new Error(
      "no Redis answers on 127.0.0.1:6379 and redis-server is not installed: install it or set REDIS_URL",
    );
  }
  const dir = join(PROJECT_ROOT, ".data", "redis");
  await mkdir(dir, { recursive: true });
  const child = spawn(
    "redis-server",
    ["--bind", LOCAL.host, "--port", String(LOCAL.port), "--dir", dir, "--appendonly", "yes", "--save", ""],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  for (const deadline = Date.now() + 10e3; Date.now() < deadline; ) {
    if (await answers(LOCAL.host, LOCAL.port)) {
      say(`started redis-server on ${LOCAL.host}:${LOCAL.port} (stopped at the end)`);
      return { url: DEFAULT_REDIS_URL, started: child };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGTERM");
  throw new Error("redis-server did not start within 10 s");
}

/** A redis-server the harness started on a port and a data directory of its own (chaos runs). */
export interface RedisServerProcess {
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Resolves when the process has ended, whatever ended it. */
  readonly exited: Promise<void>;
  /** Sends a signal to this process only (SIGKILL, SIGSTOP, SIGCONT for the faults). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after 10 s; resolves once it has ended. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server on 127.0.0.1:`port` with its data in `dir` and the append-only file on,
 * fsynced every second (Redis' default, as `hookwire start` runs it): starting it again on the
 * same `dir` and `port` after a SIGKILL is a restart on its AOF.
 */
export async function startRedisServer(options: { port: number; dir: string }): Promise<RedisServerProcess> {
  await mkdir(options.dir, { recursive: true });
  const args = ["--bind", LOCAL.host, "--port", String(options.port), "--dir", options.dir];
  args.push("--appendonly", "yes", "--appendfsync", "everysec", "--save", "");
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors = (errors + chunk.toString("utf8")).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  for (const deadline = Date.now() + 10e3; Date.now() < deadline && !ended(); ) {
    if (await answers(LOCAL.host, options.port)) {
      return {
        pid: child.pid ?? 0,
        url: `redis://${LOCAL.host}:${options.port}`,
        port: options.port,
        dir: options.dir,
        exited,
        signal(signal) {
          if (!ended()) child.kill(signal);
        },
        async stop() {
          if (ended()) return;
          const timer = setTimeout(() => child.kill("SIGKILL"), 10e3);
          // A stopped process takes SIGTERM only once it runs again.
          child.kill("SIGCONT");
          child.kill("SIGTERM");
          await exited;
          clearTimeout(timer);
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!ended()) child.kill("SIGKILL");
  await exited;
  throw new Error(`redis-server on port ${options.port} did not start within 10 s: ${errors.trim()}`);
}

export async function stopRedis(target: RedisTarget): Promise<void> {
  const child = target.started;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10e3);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The pid of the Redis server when it runs on this machine (its CPU is then counted). */
export async function localRedisPid(redisUrl: string): Promise<number | undefined> {
  const redis = connectRedis(redisUrl, "api", "hookwire-bench-info");
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
    if (!Number.isInteger(pid)) return undefined;
    return readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("redis") ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
