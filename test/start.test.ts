import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_QUEUE_PREFIX, DELIVERY_QUEUE, keyspace } from "@hookwire/queue";
import { DeliveryLog } from "@hookwire/store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from "./support/redis";
import { freePort } from "./support/redis-server";

const BIN = fileURLToPath(new URL("../packages/cli/bin/hookwire.mjs", import.meta.url));

// `npm start` is `hookwire start`: the whole system from one command, stopped by one signal.
describe("hookwire start", () => {
  let child: ChildProcess | undefined;
  const prefix = uniquePrefix("start");
  afterAll(async () => {
    child?.kill("SIGKILL");
    const redis = testRedis();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  test("serves the API with a worker, says where everything is, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const output: string[] = [];
    child = spawn(process.execPath, [BIN, "start"], {
      env: {
        ...process.env,
        REDIS_URL,
        HOOKWIRE_PORT: String(port),
        HOOKWIRE_QUEUE_PREFIX: prefix,
        HOOKWIRE_API_KEY: "start-test-admin-key-padded",
        HOOKWIRE_SECRET_KEY: "d".repeat(64),
        HOOKWIRE_WORKER_METRICS_PORT: "0",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));

    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      45_000,
      "ingest ready",
    );
    const text = output.join("");
    expect(text).toContain(`API        http://localhost:${port}/v1`);
    expect(text).toContain(`docs       http://localhost:${port}/docs`);
    expect(text).toContain(`dashboard  http://localhost:${port}/`);
    // The operator set the key: it is not printed back.
    expect(text).toContain("API key    the one in HOOKWIRE_API_KEY (admin)");
    expect(text).not.toContain("start-test-admin-key-padded");
    const hooks = await fetch(`http://127.0.0.1:${port}/v1/hooks`, {
      headers: { authorization: "Bearer start-test-admin-key-padded" },
    });
    expect(hooks.status).toBe(200);
    // The services run compiled, on plain node: no TypeScript loader in their processes.
    // (In a checkout edited since its build, start compiles first: esbuild's own process is a
    // child too, and only the services' are looked at.)
    const services = childCommandLines(child.pid!).filter((line) => line.includes("/services/"));
    expect(services).toHaveLength(2);
    expect(services.some((line) => line.includes("services/ingest/dist/main.mjs"))).toBe(true);
    expect(services.some((line) => line.includes("services/worker/dist/main.mjs"))).toBe(true);
    expect(services.join(" ")).not.toContain("tsx");
    // Bound to 127.0.0.1 only: another address of the machine (127.0.0.2 is one, on loopback)
    // is refused, where a 0.0.0.0 bind would answer.
    expect(await fetch(`http://127.0.0.2:${port}/healthz`).catch(() => "refused")).toBe("refused");

    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => "refused")).toBe("refused");
  });
});

/** The command lines of the processes whose parent is `pid` (read from /proc). */
function childCommandLines(pid: number): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) lines.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" "));
    } catch {
      // It ended in between.
    }
  }
  return lines;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the text a process wrote so far matches `pattern`: an event, never a timer. */
function outputMatching(child: ChildProcess, output: string[], pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = output.join("").match(pattern);
      if (match === null) return false;
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
      child.off("exit", gone);
      resolve(match);
      return true;
    };
    const gone = () => {
      if (!check()) reject(new Error(`exited before printing ${pattern}:\n${output.join("")}`));
    };
    if (check()) return;
    // Listeners added after the collecting ones, so `output` already holds the chunk.
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", gone);
  });
}

// Ctrl-C of `npm start` with the redis-server hookwire started: the terminal sends SIGINT to its
// foreground process group. Redis must outlive the worker, which records the attempt in flight.
describe("hookwire start with a redis-server of its own", () => {
  let child: ChildProcess | undefined;
  let receiver: Receiver | undefined;
  let restarted: ChildProcess | undefined;
  let redisPid: number | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-start-"));
  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    if (redisPid !== undefined && alive(redisPid)) process.kill(redisPid, "SIGKILL");
    restarted?.kill("SIGKILL");
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("Ctrl-C stops ingest, then the worker once its delivery in flight is recorded, then redis-server, which keeps it", async () => {
    const [port, redisPort] = [await freePort(), await freePort()];
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    // Holds the one delivery until the test lets it go: it is in flight when Ctrl-C comes.
    receiver = await startReceiver((_request, response) => {
      void answered.then(() => response.writeHead(200).end("ok"));
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOOKWIRE_PORT: String(port),
      HOOKWIRE_API_KEY: "start-own-redis-admin-key-pad",
      HOOKWIRE_SECRET_KEY: "e".repeat(64),
      HOOKWIRE_WORKER_METRICS_PORT: "0",
      LOG_LEVEL: "info",
    };
    // No Redis from the environment: hookwire starts its own on --redis-port.
    delete env.REDIS_URL;
    delete env.HOOKWIRE_QUEUE_PREFIX;
    const output: string[] = [];
    // A process group of its own, as a terminal's foreground job is: the SIGINT below goes to it.
    child = spawn(
      process.execPath,
      [BIN, "start", "--redis-port", String(redisPort), "--data-dir", dataDir],
      {
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    child.stdout?.on("data", (chunk) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));
    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));

    const started = await outputMatching(
      child,
      output,
      /started redis-server \(pid (\d+)\) on 127\.0\.0\.1:(\d+)/,
    );
    redisPid = Number(started[1]);
    expect(Number(started[2])).toBe(redisPort);
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      45_000,
      "ingest ready",
    );
    const api = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method: "POST",
        headers: {
          authorization: "Bearer start-own-redis-admin-key-pad",
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
    const hook = await api("/v1/hooks", {
      integration: "generic-webhook",
      name: "held receiver",
      formVariables: { url: `${receiver.url}/in` },
    });
    expect(hook.status).toBe(201);
    const accepted = await api("/v1/entries", entryFixture("flag-toggle", { _id: "start-in-flight-0001" }));
    expect(accepted.status).toBe(202);
    const deliveryId: string = ((await accepted.json()) as any).entries[0].hooks[0].deliveryId;
    await receiver.waitFor((requests) => requests.length === 1, 20_000);

    process.kill(-child.pid!, "SIGINT");
    await outputMatching(child, output, /"msg":"worker stopping"/);
    // The worker still has its attempt to record: Redis must be there for it.
    expect(alive(redisPid)).toBe(true);
    answer();
    expect(await exit).toBe(0);

    const text = output.join("");
    const stopped = (name: string) => text.search(new RegExp(`hookwire: ${name} \\(pid \\d+\\) stopped`));
    expect(stopped("ingest")).toBeGreaterThan(-1);
    expect(stopped("worker")).toBeGreaterThan(stopped("ingest"));
    expect(stopped("redis-server")).toBeGreaterThan(stopped("worker"));
    expect(text).toMatch(/hookwire: worker \(pid \d+\) stopped \(exit code 0\)/);
    expect(text).not.toContain("redis connection error");
    expect(alive(redisPid)).toBe(false);

    // Started again on its append-only file, Redis holds the delivery as sent, with nothing queued
    // that would send it again.
    restarted = spawn(
      "redis-server",
      [
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--dir",
        join(dataDir, "redis"),
        "--appendonly",
        "yes",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const restartedOutput: string[] = [];
    restarted.stdout?.on("data", (chunk) => restartedOutput.push(String(chunk)));
    await outputMatching(restarted, restartedOutput, /Ready to accept connections/);
    const redis = new Redis(`redis://127.0.0.1:${redisPort}`, { maxRetriesPerRequest: null });
    const queue = new Queue(DELIVERY_QUEUE, { connection: redis, prefix: DEFAULT_QUEUE_PREFIX });
    try {
      const record = await new DeliveryLog(redis, keyspace(DEFAULT_QUEUE_PREFIX), {
        retention: { succeeded: 3600e3, failed: 3600e3 },
      }).get(deliveryId);
      expect(record?.status).toBe("succeeded");
      const jobs = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
      expect(Object.values(jobs).reduce((sum, n) => sum + n, 0)).toBe(0);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});

// `hookwire start --workers N`: N worker processes beside one ingest, each with its own metrics
// port, all stopped by one Ctrl-C after ingest.
describe("hookwire start --workers 2", () => {
  let child: ChildProcess | undefined;
  const prefix = uniquePrefix("start-workers");
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-start-workers-"));
  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    const redis = testRedis();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("runs two worker processes, each serving its own metrics, and Ctrl-C stops both after ingest", async () => {
    const port = await freePort();
    const output: string[] = [];
    child = spawn(process.execPath, [BIN, "start", "--workers", "2", "--data-dir", dataDir], {
      env: {
        ...process.env,
        REDIS_URL,
        HOOKWIRE_PORT: String(port),
        HOOKWIRE_QUEUE_PREFIX: prefix,
        HOOKWIRE_API_KEY: "start-workers-admin-key-padded",
        HOOKWIRE_SECRET_KEY: "f".repeat(64),
        HOOKWIRE_WORKER_METRICS_PORT: "0",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout?.on("data", (chunk) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));
    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));

    // Both workers up: each logs its own metrics port once it listens.
    const ready = /"msg":"worker started"/g;
    await outputMatching(child, output, /"msg":"worker started"[\s\S]*"msg":"worker started"/);
    const started = output.join("");
    const pids = [...started.matchAll(/hookwire: worker (\d) \(pid (\d+)\) started/g)].map((m) =>
      Number(m[2]),
    );
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    const metricsPorts = [...started.matchAll(/"metricsPort":(\d+)/g)].map((m) => Number(m[1]));
    expect(started.match(ready)).toHaveLength(2);
    expect(new Set(metricsPorts).size).toBe(2);
    for (const metricsPort of metricsPorts) {
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("hookwire_deliveries_total");
    }
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      45_000,
      "ingest ready",
    );

    process.kill(-child.pid!, "SIGINT");
    expect(await exit).toBe(0);
    const text = output.join("");
    const stopped = (name: string) => text.search(new RegExp(`hookwire: ${name} \\(pid \\d+\\) stopped`));
    expect(stopped("ingest")).toBeGreaterThan(-1);
    expect(stopped("worker 1")).toBeGreaterThan(stopped("ingest"));
    expect(stopped("worker 2")).toBeGreaterThan(stopped("ingest"));
    expect(text).toMatch(/hookwire: worker 1 \(pid \d+\) stopped \(exit code 0\)/);
    expect(text).toMatch(/hookwire: worker 2 \(pid \d+\) stopped \(exit code 0\)/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
