import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { redisAnswers as answers } from "@hookwire/queue";
import { generateSecretKey } from "@hookwire/store";
import type { Command, CommandIO } from "../io";

const HELP = `Usage: hookwire start [--workers N | --no-worker] [--redis-port PORT] [--data-dir DIR]

Runs the whole system on this machine: the ingest API (HOOKWIRE_PORT, default 8080) and a
delivery worker. Redis comes from REDIS_URL (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES); when
none is set and nothing answers on 127.0.0.1:6379, a local redis-server is started (append-only file on, data
in .data/redis) and stopped with the service.

Ctrl-C (or SIGTERM) stops ingest first (no new entries), then the workers (each finishes the
deliveries in flight, up to HOOKWIRE_SHUTDOWN_GRACE_MS), then the redis-server it started
(which writes its append-only file to disk), and waits for each.

Options:
  --workers N         run N worker processes (default 1); worker i serves its metrics on
                      HOOKWIRE_WORKER_METRICS_PORT + i - 1 (all on a free port when it is 0)
  --no-worker         run ingest only (--workers 0)
  --redis-port PORT   the local Redis' port: probed on 127.0.0.1, and where redis-server is
                      started when none answers (default 6379; ignored when REDIS_URL is set)
  --data-dir DIR      where the kept keys and the local Redis' data go (default .data)

Made on first start and kept in the data folder when not set in the environment:
  HOOKWIRE_API_KEY      the admin API key (.data/api-key)
  HOOKWIRE_SECRET_KEY   the key that encrypts hooks' secrets (.data/secret-key)

On a laptop, receivers on loopback (127.0.0.0/8, ::1) are allowed unless
HOOKWIRE_ALLOW_PRIVATE_NETWORKS or HOOKWIRE_ALLOWED_NETWORKS says otherwise.
`;

const LOCAL_REDIS_HOST = "127.0.0.1";
const DEFAULT_LOCAL_REDIS_PORT = 6379;
/** How long ingest may take to answer the requests it has begun, and redis-server to write its AOF. */
const INGEST_STOP_MS = 10e3;
const REDIS_STOP_MS = 30e3;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** More would only share this machine's cores; a bigger deployment runs workers on more machines. */
const MAX_WORKERS = 64;

export const runStart: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean" },
      "no-worker": { type: "boolean" },
      workers: { type: "string" },
      "redis-port": { type: "string" },
      "data-dir": { type: "string" },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const redisPort = Number(values["redis-port"] ?? DEFAULT_LOCAL_REDIS_PORT);
  if (!Number.isInteger(redisPort) || redisPort < 1 || redisPort > 65_535) {
    io.stderr.write(
      `hookwire: --redis-port ${JSON.stringify(values["redis-port"])}: expected a port from 1 to 65535\n`,
    );
    return 2;
  }
  if (values["no-worker"] && values.workers !== undefined) {
    io.stderr.write("hookwire: --no-worker and --workers: give one of them\n");
    return 2;
  }
  const workerCount = values["no-worker"] ? 0 : Number(values.workers ?? 1);
  if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > MAX_WORKERS) {
    io.stderr.write(
      `hookwire: --workers ${JSON.stringify(values.workers)}: expected a whole number from 0 to ${MAX_WORKERS}\n`,
    );
    return 2;
  }
  const local = { host: LOCAL_REDIS_HOST, port: redisPort };
  const dataDir = resolvePath(PROJECT_ROOT, values["data-dir"] ?? ".data");
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  const say = (line: string) => io.stdout.write(`hookwire: ${line}\n`);

  // The key is shown only when hookwire made it: one the operator set is theirs to keep quiet.
  const keyMade = !env.HOOKWIRE_API_KEY;
  env.HOOKWIRE_API_KEY ||= await keptSecret(
    join(dataDir, "api-key"),
    () => `hw_${randomBytes(24).toString("base64url")}`,
  );
  env.HOOKWIRE_SECRET_KEY ||= await keptSecret(join(dataDir, "secret-key"), generateSecretKey);
  if (env.HOOKWIRE_ALLOW_PRIVATE_NETWORKS === undefined && env.HOOKWIRE_ALLOWED_NETWORKS === undefined) {
    env.HOOKWIRE_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128";
    say("receivers on loopback (127.0.0.0/8, ::1) are allowed; set HOOKWIRE_ALLOWED_NETWORKS to change that");
  }
  if (io.stdout === process.stdout && process.stdout.isTTY) env.HOOKWIRE_PRETTY_LOGS ??= "true";

  const useLocalRedis = env.REDIS_URL === undefined && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES;
  if (useLocalRedis) env.REDIS_URL = `redis://${local.host}:${local.port}`;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`hookwire: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const metricsBase = config.worker.metricsPort;
  if (metricsBase !== 0 && metricsBase + workerCount - 1 > 65_535) {
    io.stderr.write(
      `hookwire: --workers ${workerCount} from HOOKWIRE_WORKER_METRICS_PORT=${metricsBase} runs past port 65535; choose a lower port, or 0\n`,
    );
    return 2;
  }

  // Each child is in a process group of its own (detached), so the SIGINT that Ctrl-C sends to
  // the terminal's foreground group reaches this process only, and the order below is this
  // process's to keep whatever the terminal sends (Ctrl-C, Ctrl-\, a closed window). Left in the
  // foreground group, redis-server would stop at the same moment as the worker that still has
  // deliveries to record in it, and ingest could still be writing entries. Ingest and the worker
  // also stop when this process is gone (their IPC channel closes), so a `kill -9` of hookwire
  // leaves no service behind.
  // Stopped stage by stage: ingest, then every worker at once (each finishes its own deliveries).
  const stages: { name: string; child: ChildProcess; graceMs: number }[][] = [];
  let redisStart: Promise<ChildProcess | undefined> = Promise.resolve(undefined);
  let stopping: Promise<number> | undefined;
  let finish: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
  // Ingest first, so no entry is accepted that no worker will take; then the workers, which
  // finish the attempts in flight and record them; Redis last, once nothing writes to it.
  const stopAll = (code: number): Promise<number> => {
    stopping ??= (async () => {
      // A signal while redis-server starts: it is stopped once it is up, never left running.
      const redis = await redisStart;
      for (const stage of stages) {
        const stopped = stage.map(({ name, child, graceMs }) =>
          stopChild(child, graceMs).then((how) => say(`${name} (pid ${child.pid}) ${how}`)),
        );
        await Promise.all(stopped);
      }
      if (redis !== undefined) {
        say(`redis-server (pid ${redis.pid}) ${await stopChild(redis, REDIS_STOP_MS)}`);
      }
      return code;
    })();
    void stopping.then(finish);
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) {
      say(`${signal}: already stopping; the worker may take up to ${config.worker.shutdownGraceMs} ms`);
      return;
    }
    say(
      `${signal}: stopping ingest, then the worker${workerCount === 1 ? "" : "s"}, then the redis-server hookwire started, if any`,
    );
    void stopAll(0);
  };
  const unexpected = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
    if (stopping !== undefined) return;
    io.stderr.write(
      `hookwire: the ${name} process ended (${signal ?? `exit code ${code}`}); stopping everything\n`,
    );
    void stopAll(1);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    if (useLocalRedis) {
      if (await answers(local.host, local.port)) {
        say(`using the Redis that answers on ${local.host}:${local.port}`);
      } else {
        const redisDir = join(dataDir, "redis");
        redisStart = startLocalRedis(local, redisDir, io);
        const redis = await redisStart;
        if (redis === undefined) return 1;
        redis.on("exit", unexpected("redis-server"));
        say(
          `started redis-server (pid ${redis.pid}) on ${local.host}:${local.port} (append-only file in ${shown(redisDir)}); it stops after the worker${workerCount === 1 ? "" : "s"}`,
        );
      }
    }
    if (stopping !== undefined) return await stopping;

    const argsOf = await ensureBuilt(io);
    if (stopping !== undefined) return await stopping;
    const ingest = spawnService(argsOf("ingest", env), env, io);
    ingest.on("exit", unexpected("ingest"));
    stages.push([{ name: "ingest", child: ingest, graceMs: INGEST_STOP_MS }]);
    const workers: { name: string; child: ChildProcess; graceMs: number }[] = [];
    for (let i = 0; i < workerCount; i += 1) {
      // One worker is "worker", as it always was; several are "worker 1", "worker 2", ...
      const name = workerCount === 1 ? "worker" : `worker ${i + 1}`;
      const metricsPort = metricsBase === 0 ? 0 : metricsBase + i;
      const child = spawnService(
        argsOf("worker", env),
        { ...env, HOOKWIRE_WORKER_METRICS_PORT: String(metricsPort) },
        io,
      );
      child.on("exit", unexpected(name));
      workers.push({ name, child, graceMs: config.worker.shutdownGraceMs + 5_000 });
      if (workerCount > 1)
        say(`${name} (pid ${child.pid}) started, metrics on port ${metricsPort || "(a free one)"}`);
    }
    if (workers.length > 0) stages.push(workers);
    const base = `http://localhost:${config.ingest.port}`;
    say(`API        ${base}/v1`);
    say(`docs       ${base}/docs`);
    say(`dashboard  ${base}/`);
    say(
      keyMade
        ? `API key    ${env.HOOKWIRE_API_KEY}  (admin; kept in ${shown(join(dataDir, "api-key"))})`
        : "API key    the one in HOOKWIRE_API_KEY (admin)",
    );
    say("press Ctrl-C to stop");
    return await exited;
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
};

/** A path as the operator would type it from the project's root. */
function shown(path: string): string {
  const inside = relative(PROJECT_ROOT, path);
  return inside === "" || inside.startsWith("..") ? path : inside;
}

async function keptSecret(file: string, make: () => string): Promise<string> {
  try {
    const kept = (await readFile(file, "utf8")).trim();
    if (kept !== "") return kept;
  } catch {
    // Not made yet.
  }
  const value = make();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  return value;
}

async function startLocalRedis(
  local: { host: string; port: number },
  dir: string,
  io: CommandIO,
): Promise<ChildProcess | undefined> {
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (found.error !== undefined) {
    io.stderr.write(
      `hookwire: no Redis answers on ${local.host}:${local.port} and redis-server is not installed. Either:\n` +
        "  - install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or\n" +
        "  - point hookwire at a Redis: REDIS_URL=redis://host:6379 npm start, or\n" +
        "  - run everything in containers: docker compose up\n",
    );
    return undefined;
  }
  await mkdir(dir, { recursive: true });
  const child = spawn(
    "redis-server",
    ["--bind", local.host, "--port", String(local.port), "--dir", dir, "--appendonly", "yes", "--save", ""],
    // Its own process group: see runStart.
    { stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await answers(local.host, local.port)) return child;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  io.stderr.write("hookwire: redis-server did not start within 10 s\n");
  child.kill("SIGTERM");
  return undefined;
}

/**
 * The services run compiled (packages/cli/build.mjs); sources edited since the last build are
 * built again first, in a fraction of a second. Without esbuild (an image that ships none) the
 * build there is what runs.
 */
async function ensureBuilt(io: CommandIO): Promise<(name: string, env: NodeJS.ProcessEnv) => string[]> {
  const builder = await import(pathToFileURL(join(PROJECT_ROOT, "packages", "cli", "build.mjs")).href);
  if (builder.stale()) {
    try {
      await builder.build();
    } catch (error) {
      io.stderr.write(
        `hookwire: could not compile the services (${(error as Error).message}); running their TypeScript\n`,
      );
    }
  }
  return (name, env) => builder.serviceArgs(name, undefined, env) as string[];
}

function spawnService(args: string[], env: NodeJS.ProcessEnv, io: CommandIO): ChildProcess {
  // Its own process group (see runStart), and an IPC channel only so that it sees this process go.
  const child = spawn(process.execPath, args, {
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });
  child.stdout?.pipe(io.stdout, { end: false });
  child.stderr?.pipe(io.stderr, { end: false });
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; says how the child ended. */
function stopChild(child: ChildProcess, graceMs: number): Promise<string> {
  const ended = () =>
    child.signalCode ? `stopped (${child.signalCode})` : `stopped (exit code ${child.exitCode})`;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(ended());
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(killed ? `killed after ${graceMs} ms` : ended());
    });
    child.kill("SIGTERM");
  });
}
