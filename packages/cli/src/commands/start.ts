import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { redisAnswers as answers } from "@hookwire/queue";
import { generateSecretKey } from "@hookwire/store";
import type { Command, CommandIO } from "../io";

const HELP = `Usage: hookwire start [--no-worker]

Runs the whole system on this machine: the ingest API (HOOKWIRE_PORT, default 8080) and a
delivery worker. Redis comes from REDIS_URL; when that is unset and nothing answers on
127.0.0.1:6379, a local redis-server is started (append-only file on, data in .data/redis)
and stopped with the service.

Made on first start and kept in .data/ when not set in the environment:
  HOOKWIRE_API_KEY      the admin API key (.data/api-key)
  HOOKWIRE_SECRET_KEY   the key that encrypts hooks' secrets (.data/secret-key)

On a laptop, receivers on loopback (127.0.0.0/8, ::1) are allowed unless
HOOKWIRE_ALLOW_PRIVATE_NETWORKS or HOOKWIRE_ALLOWED_NETWORKS says otherwise.
`;

const LOCAL_REDIS = { host: "127.0.0.1", port: 6379 };

export const runStart: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: "boolean" }, "no-worker": { type: "boolean" } },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const dataDir = join(PROJECT_ROOT, ".data");
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

  const children: ChildProcess[] = [];
  let redis: ChildProcess | undefined;
  if (env.REDIS_URL === undefined) {
    if (await answers(LOCAL_REDIS.host, LOCAL_REDIS.port)) {
      say(`using the Redis that answers on ${LOCAL_REDIS.host}:${LOCAL_REDIS.port}`);
    } else {
      const started = await startLocalRedis(join(dataDir, "redis"), io);
      if (started === undefined) return 1;
      redis = started;
      say(
        `started redis-server on ${LOCAL_REDIS.host}:${LOCAL_REDIS.port} (append-only file in .data/redis); it stops with hookwire`,
      );
    }
  }

  let stopping = false;
  const stopAll = async (code: number): Promise<number> => {
    stopping = true;
    await Promise.all(children.map((child) => stopChild(child, config.worker.shutdownGraceMs + 5_000)));
    if (redis !== undefined) await stopChild(redis, 10_000);
    return code;
  };

  const exited = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      say(`${signal}: stopping`);
      void stopAll(0).then(resolve);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    for (const name of values["no-worker"] ? ["ingest"] : ["ingest", "worker"]) {
      const child = spawnService(name, env, io);
      children.push(child);
      child.on("exit", (code, signal) => {
        if (stopping) return;
        io.stderr.write(
          `hookwire: the ${name} process ended (${signal ?? `exit code ${code}`}); stopping everything\n`,
        );
        void stopAll(1).then(resolve);
      });
    }
  });

  const base = `http://localhost:${config.ingest.port}`;
  say(`API        ${base}/v1`);
  say(`docs       ${base}/docs`);
  say(`dashboard  ${base}/`);
  say(`API key    ${env.HOOKWIRE_API_KEY}  (admin; kept in .data/api-key unless HOOKWIRE_API_KEY is set)`);
  say("press Ctrl-C to stop");
  return exited;
};

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

async function startLocalRedis(dir: string, io: CommandIO): Promise<ChildProcess | undefined> {
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (found.error !== undefined) {
    io.stderr.write(
      "hookwire: no Redis answers on 127.0.0.1:6379 and redis-server is not installed. Either:\n" +
        "  - install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or\n" +
        "  - point hookwire at a Redis: REDIS_URL=redis://host:6379 npm start, or\n" +
        "  - run everything in containers: docker compose up\n",
    );
    return undefined;
  }
  await mkdir(dir, { recursive: true });
  const child = spawn(
    "redis-server",
    [
      "--bind",
      LOCAL_REDIS.host,
      "--port",
      String(LOCAL_REDIS.port),
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await answers(LOCAL_REDIS.host, LOCAL_REDIS.port)) return child;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  io.stderr.write("hookwire: redis-server did not start within 10 s\n");
  child.kill("SIGTERM");
  return undefined;
}

function spawnService(name: string, env: NodeJS.ProcessEnv, io: CommandIO): ChildProcess {
  const entry = join(PROJECT_ROOT, "services", name, "src", "main.ts");
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), entry], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(io.stdout, { end: false });
  child.stderr?.pipe(io.stderr, { end: false });
  return child;
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
