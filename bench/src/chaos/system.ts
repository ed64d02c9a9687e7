import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { connectRedis, Partitions } from "@hookwire/queue";
import { generateSecretKey } from "@hookwire/store";
import type { Redis } from "ioredis";
import { IngestClient } from "../ingest-client";
import { type RedisServerProcess, startRedisServer } from "../redis-server";
import { freePort, type ServiceProcess, serviceEnv, startService, waitUntilUp } from "../service-process";

/**
 * What one chaos scenario runs against, all its own: a redis-server (AOF on, fsync every second,
 * data in a directory of the scenario's), the real ingest and the real worker in processes of
 * their own, each of the three killed, stopped and started again on the same port by the
 * scenario. Every process is stopped by its own handle (its pid), never by name.
 */
export interface ChaosSystem {
  readonly prefix: string;
  /** The partitions the services run with (HOOKWIRE_QUEUE_PARTITIONS), to find their records. */
  readonly partitions: Partitions;
  readonly apiKey: string;
  readonly ingestUrl: string;
  readonly redisUrl: string;
  /** The lease after which another worker takes over abandoned work (HOOKWIRE_WORKER_LOCK_MS). */
  readonly lockMs: number;
  readonly redisServer: RedisServerProcess;
  readonly ingest: ServiceProcess | undefined;
  readonly worker: ServiceProcess | undefined;
  /** A connection for reading records: it waits out Redis' absences instead of failing. */
  readonly inspect: Redis;
  /**
   * A generic-webhook hook (signed, so the worker must decrypt its secret) posting to `url`, with
   * per-hook delivery settings when given; answers its id.
   */
  createHook(name: string, url: string, delivery?: Record<string, unknown>): Promise<string>;
  startIngest(): Promise<void>;
  /** `env` over the system's settings (scenario 5 starts a worker with another secret key). */
  startWorker(env?: Record<string, string>): Promise<void>;
  /** SIGKILL, then waits for the process to end. */
  kill(service: "ingest" | "worker"): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after the grace. */
  stopService(service: "ingest" | "worker"): Promise<void>;
  /** SIGKILL of redis-server, then waits for it to end. */
  killRedis(): Promise<void>;
  /** redis-server again on the same port and directory: it loads its AOF. */
  startRedis(): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosSystem(options: {
  dir: string;
  /** Settings over the chaos defaults (HOOKWIRE_* of the harness's own environment). */
  env: Record<string, string>;
}): Promise<ChaosSystem> {
  const prefix = `hwchaos-${randomBytes(4).toString("hex")}`;
  const apiKey = `chaos-${randomBytes(16).toString("hex")}`;
  const [redisPort, ingestPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const redisDir = join(options.dir, "redis");
  let redisServer = await startRedisServer({ port: redisPort, dir: redisDir });
  const env: Record<string, string> = {
    ...serviceEnv({
      redisUrl: redisServer.url,
      prefix,
      apiKey,
      secretKey: generateSecretKey(),
      ingestPort,
      metricsPort,
    }),
    // Abandoned work is taken over after 5 s, and retries come within seconds, so that every
    // scenario settles within a bounded wait.
    HOOKWIRE_WORKER_LOCK_MS: "5000",
    HOOKWIRE_RETRY_SCHEDULE: "0.2,0.5,1,2,5",
    ...options.env,
  };
  const ingestUrl = `http://127.0.0.1:${ingestPort}`;
  const inspect = connectRedis(redisServer.url, "worker", "hookwire-chaos-inspect");
  inspect.on("error", () => undefined);
  const admin = new IngestClient(ingestUrl, apiKey, 2);
  const hookSecret = randomBytes(24).toString("hex");
  let ingest: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;

  const system: ChaosSystem = {
    prefix,
    partitions: new Partitions(prefix, Number(env.HOOKWIRE_QUEUE_PARTITIONS ?? 1)),
    apiKey,
    ingestUrl,
    redisUrl: redisServer.url,
    lockMs: Number(env.HOOKWIRE_WORKER_LOCK_MS),
    get redisServer() {
      return redisServer;
    },
    get ingest() {
      return ingest;
    },
    get worker() {
      return worker;
    },
    inspect,
    createHook: (name, url, delivery) => admin.createHook(name, url, hookSecret, delivery),
    async startIngest() {
      ingest = startService("ingest", { env });
      await waitUntilUp(`${ingestUrl}/readyz`, ingest);
    },
    async startWorker(override = {}) {
      worker = startService("worker", { env: { ...env, ...override } });
      await waitUntilUp(`http://127.0.0.1:${metricsPort}/healthz`, worker);
    },
    async kill(service) {
      const running = service === "ingest" ? ingest : worker;
      if (running === undefined) return;
      try {
        process.kill(running.pid, "SIGKILL");
      } catch {
        // It had ended already (ESRCH).
      }
      await running.exited;
    },
    async stopService(service) {
      await (service === "ingest" ? ingest : worker)?.stop();
    },
    async killRedis() {
      redisServer.signal("SIGKILL");
      await redisServer.exited;
    },
    async startRedis() {
      redisServer = await startRedisServer({ port: redisPort, dir: redisDir });
    },
    async stop() {
      await Promise.allSettled([ingest?.stop(), worker?.stop()]);
      await admin.close().catch(() => undefined);
      inspect.disconnect();
      await redisServer.stop();
      await rm(options.dir, { recursive: true, force: true });
    },
  };
  try {
    await system.startIngest();
    await system.startWorker();
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}
