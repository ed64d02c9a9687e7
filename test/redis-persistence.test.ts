import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { keyspace } from "@hookwire/queue";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { eventually } from "./support/receiver";
import { freePort, type OwnRedis, ownRedis } from "./support/redis-server";
import { type System, startSystem } from "./support/system";

// What Redis keeps on disk decides whether an entry answered 202 survives a Redis restart: ingest
// reads it (CONFIG GET) and says so on /readyz, /v1/stats and in its log, and refuses to start on
// a Redis that keeps nothing when HOOKWIRE_REQUIRE_DURABLE_REDIS=true. The machine's Redis keeps
// nothing on disk, so each case runs a redis-server of its own.

const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));

const servers: OwnRedis[] = [];
const systems: System[] = [];
const processes: ChildProcess[] = [];
afterAll(async () => {
  for (const child of processes) if (child.exitCode === null) child.kill("SIGKILL");
  for (const system of systems) await system.close();
  for (const server of servers) await server.stop();
});

async function redisServer(options: Parameters<typeof ownRedis>[0] = {}): Promise<OwnRedis> {
  const server = await ownRedis(options);
  await server.start();
  servers.push(server);
  return server;
}

async function systemOn(redis: OwnRedis, label: string): Promise<System> {
  const system = await startSystem({
    label,
    env: { REDIS_URL: redis.url, LOG_LEVEL: "info" },
    worker: false,
  });
  systems.push(system);
  return system;
}

const get = async (system: System, path: string) => {
  const response = await fetch(`${system.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${system.apiKey}` },
  });
  return { status: response.status, json: (await response.json()) as any };
};

describe("Redis' persistence, as ingest reports it", () => {
  test("the append-only file off: /readyz, /v1/stats and a log warning say acknowledged entries would be lost", async () => {
    const redis = await redisServer();
    const system = await systemOn(redis, "persist-off");

    const ready = await get(system, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.persistence).toMatchObject({ appendonly: "no", save: "", durable: false });
    expect(ready.json.persistence.lossWindow).toMatch(/^everything/);
    const stats = await get(system, "/v1/stats");
    expect(stats.json.redis.persistence).toMatchObject({ appendonly: "no", durable: false });
    const warning = system.logLines.find((line) => line.includes("append-only file off"));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40 });
    expect(warning).toContain("CONFIG SET appendonly yes");

    // The fix the warning names shows without restarting ingest.
    const direct = new Redis(redis.url);
    await direct.config("SET", "appendonly", "yes");
    direct.disconnect();
    const after = await get(system, "/readyz");
    expect(after.json.persistence).toMatchObject({ appendonly: "yes", durable: true });
  });

  test("the append-only file on: durable, with its appendfsync, and no warning", async () => {
    const redis = await redisServer({ appendonly: true });
    const system = await systemOn(redis, "persist-on");

    const ready = await get(system, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.persistence).toMatchObject({
      appendonly: "yes",
      appendfsync: "everysec",
      durable: true,
    });
    expect(ready.json.persistence.lossWindow).toMatch(/^nothing if the Redis process crashes/);
    expect((await get(system, "/v1/stats")).json.redis.persistence.durable).toBe(true);
    expect(system.logLines.some((line) => line.includes("append-only file off"))).toBe(false);
  });

  test("a Redis that refuses CONFIG (renamed, as on managed Redis) is reported unknown and stays ready", async () => {
    const redis = await redisServer({ args: ["--rename-command", "CONFIG", ""] });
    const system = await systemOn(redis, "persist-unknown");

    const ready = await get(system, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.persistence).toMatchObject({
      appendonly: "unknown",
      appendfsync: "unknown",
      save: "unknown",
      durable: null,
    });
  });
});

describe("HOOKWIRE_REQUIRE_DURABLE_REDIS=true", () => {
  const startIngest = async (redis: OwnRedis) => {
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), INGEST_MAIN], {
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        HOOKWIRE_REQUIRE_DURABLE_REDIS: "true",
        HOOKWIRE_PORT: String(port),
        HOOKWIRE_HOST: "127.0.0.1",
        HOOKWIRE_API_KEY: `durable-${randomBytes(12).toString("hex")}`,
        HOOKWIRE_SECRET_KEY: randomBytes(32).toString("hex"),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    processes.push(child);
    child.stdout?.on("data", (chunk) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, port, output, exit };
  };

  test("ingest refuses to start on a Redis with the append-only file off, naming the setting and the fix", async () => {
    const redis = await redisServer();
    const ingest = await startIngest(redis);

    expect(await ingest.exit).toBe(1);
    const text = ingest.output.join("");
    expect(text).toMatch(
      /hookwire ingest: HOOKWIRE_REQUIRE_DURABLE_REDIS=true, but the Redis at redis:\/\/127\.0\.0\.1:\d+\/? has its append-only file off/,
    );
    expect(text).toContain("CONFIG SET appendonly yes");
    expect(text).not.toContain("ingest listening");
  });

  test("ingest starts on a Redis with the append-only file on", async () => {
    const redis = await redisServer({ appendonly: true });
    const ingest = await startIngest(redis);

    let ready: any;
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${ingest.port}/readyz`).catch(() => undefined);
        if (response?.status !== 200) return false;
        ready = await response.json();
        return true;
      },
      30_000,
      "ingest ready",
    );
    expect(ready.persistence).toMatchObject({ appendonly: "yes", durable: true });
    ingest.child.kill("SIGTERM");
    expect(await ingest.exit).toBe(0);
  });
});

describe("stuck deliveries", () => {
  test("/v1/stats counts them per minute and for the hour, /metrics as hookwire_deliveries_stuck", async () => {
    const system = await startSystem({ label: "stuck", worker: false });
    systems.push(system);
    const keys = keyspace(system.config.queuePrefix);
    const current = Math.floor(Date.now() / 60e3);
    // As the worker's sweeper counts them: HINCRBY in the minute it queued them again.
    await system.redis.hincrby(keys.statsMinute(current - 1), "deliveries:stuck", 3);
    await system.redis.hincrby(keys.statsMinute(current - 12), "deliveries:stuck", 2);
    await system.redis.hincrby(keys.statsMinute(current - 70), "deliveries:stuck", 40);

    const stats = await system.api("GET", "/v1/stats");
    expect(stats.status).toBe(200);
    expect(stats.json.totals.deliveries.stuck).toBe(5);
    const minuteAt = (minute: number) =>
      stats.json.minutes.find((m: { at: string }) => m.at === new Date(minute * 60e3).toISOString());
    expect(minuteAt(current - 1).deliveries.stuck).toBe(3);
    expect(minuteAt(current - 12).deliveries.stuck).toBe(2);

    const metrics = await (await fetch(`${system.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^hookwire_deliveries_stuck 5$/m);
  });
});
