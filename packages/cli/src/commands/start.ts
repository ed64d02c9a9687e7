import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve as resolvePath } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { redisAnswers as answers } from "@hookwire/queue";
import { generateSecretKey } from "@hookwire/store";
import type { Command, CommandIO } from "../io";

const HELP = `Usage: hookwire start [--no-worker] [--redis-port PORT] [--data-dir DIR]

Runs the whole system on this machine: the ingest API (HOOKWIRE_PORT, default 8080) and a
delivery worker. Redis comes from REDIS_URL; when that is unset and nothing answers on
127.0.0.1:6379, a local redis-server is started (append-only file on, data in .data/redis)
and stopped with the service.

Ctrl-C (or SIGTERM) stops ingest first (no new entries), then the worker (it finishes the
deliveries in flight, up to HOOKWIRE_SHUTDOWN_GRACE_MS), then the redis-server it started
(which writes its append-only file to disk), and waits for each.

Options:
  --no-worker         run ingest only
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

export const runStart: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean" },
      "no-worker": { type: "boolean" },
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
  const local = { host: LOCAL_REDIS_HOST, port: redisPort };
  const dataDir = resolvePath(PROJECT_ROOT, values["data-dir"] ?? ".data");
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  const say = (line: string) => io.stdout.write(`hookwire: ${line}\n`);

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

  const useLocalRedis = env.REDIS_URL === undefined;
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

  // Each child is in a process group of its own (detached), so the SIGINT that Ctrl-C sends to
  // the terminal's foreground group reaches this process only, and the order below is this
  // process's to keep whatever the terminal sends (Ctrl-C, Ctrl-\, a closed window). Left in the
  // foreground group, redis-server would stop at the same moment as the worker that still has
  // deliveries to record in it, and ingest could still be writing entries. Ingest and the worker
  // also stop when this process is gone (their IPC channel closes), so a `kill -9` of hookwire
  // leaves no service behind.
  const children: { name: string; child: ChildProcess; graceMs: number }[] = [];
  let redisStart: Promise<ChildProcess | undefined> = Promise.resolve(undefined);
  let stopping: Promise<number> | undefined;
  let finish: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
  // Ingest first, so no entry is accepted that no worker will take; then the worker, which
  // finishes the attempts in flight and records them; Redis last, once nothing writes to it.
  const stopAll = (code: number): Promise<number> => {
    stopping ??= (async () => {
      // A signal while redis-server starts: it is stopped once it is up, never left running.
      const redis = await redisStart;
      for (const { name, child, graceMs } of children) {
        say(`${name} (pid ${child.pid}) ${await stopChild(child, graceMs)}`);
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
    say(`${signal}: stopping ingest, then the worker, then the redis-server hookwire started, if any`);
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
          `started redis-server (pid ${redis.pid}) on ${local.host}:${local.port} (append-only file in ${shown(redisDir)}); it stops after the worker`,
        );
      }
    }
    if (stopping !== undefined) return await stopping;

    for (const name of values["no-worker"] ? ["ingest"] : ["ingest", "worker"]) {
      const child = spawnService(name, env, io);
      const graceMs = name === "worker" ? config.worker.shutdownGraceMs + 5_000 : INGEST_STOP_MS;
      children.push({ name, child, graceMs });
      child.on("exit", unexpected(name));
    }
    const base = `http://localhost:${config.ingest.port}`;
    say(`API        ${base}/v1`);
    say(`docs       ${base}/docs`);
    say(`dashboard  ${base}/`);
    say(
      `API key    ${env.HOOKWIRE_API_KEY}  (admin; kept in ${shown(join(dataDir, "api-key"))} unless HOOKWIRE_API_KEY is set)`,
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

function spawnService(name: string, env: NodeJS.ProcessEnv, io: CommandIO): ChildProcess {
  const entry = join(PROJECT_ROOT, "services", name, "src", "main.ts");
  // Its own process group (see runStart), and an IPC channel only so that it sees this process go.
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), entry], {
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
