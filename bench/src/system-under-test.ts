import { randomBytes } from "node:crypto";
import { loadConfig } from "@hookwire/config";
import { connectRedis, DELIVERY_QUEUE, hookIdOfDelivery, Partitions } from "@hookwire/queue";
import { DeliveryLog, generateSecretKey } from "@hookwire/store";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { IngestClient } from "./ingest-client";
import { dropPrefix } from "./redis-server";
import { freePort, type ServiceProcess, serviceEnv, startService, waitUntilUp } from "./service-process";

export interface SystemOptions {
  /** A REDIS_URL: `redis://…`, or `redis+cluster://host:port,…` for a Redis Cluster. */
  redisUrl: string;
  /** Directory for CPU profiles of ingest and worker (`--cpu-prof`), written when they stop. */
  cpuProfileDir?: string;
  /** Extra environment for both services (HOOKWIRE_WORKER_CONCURRENCY=… to try a setting). */
  env?: Record<string, string>;
}

/**
 * The real ingest and the real worker, each in its own process, under a key prefix of this run
 * only, plus what the harness needs to drive them: the API client, the queue (to hold the worker
 * back while a backlog is built), a Redis connection and the hooks of the current phase.
 */
export interface SystemUnderTest {
  readonly prefix: string;
  /** The current processes (a restart replaces them). */
  readonly ingest: ServiceProcess;
  /** The first of `workers`. */
  readonly worker: ServiceProcess;
  /**
   * Every worker process: one, or `BENCH_WORKERS` of them (in the run's environment or a
   * restart's), the others with metrics on ports of their own.
   */
  readonly workers: readonly ServiceProcess[];
  /** The worker's Prometheus endpoint (heap, event loop lag, delivery counters). */
  readonly workerMetricsUrl: string;
  /** Ingest's Prometheus endpoint. */
  readonly ingestMetricsUrl: string;
  readonly client: IngestClient;
  /** The partitions the services run with, and each one's delivery queue (in partition order). */
  readonly partitions: Partitions;
  readonly queues: readonly Queue[];
  readonly redis: Redis;
  /** The signing secret of every bench hook. */
  readonly hookSecret: string;
  /** Replaces the current hooks with `count` hooks posting to `url` + `/h/<n>`; returns their ids. */
  setHooks(count: number, url: string): Promise<string[]>;
  /** One more hook (kept until the next setHooks); returns its id. */
  addHook(name: string, url: string, delivery?: Record<string, unknown>): Promise<string>;
  /** Deletes one hook. */
  removeHook(id: string): Promise<void>;
  /** `acceptedAt` of each delivery id, as ingest recorded it (absent ids are left out). */
  acceptedAt(deliveryIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * Stops ingest and worker and starts them again, same keys and ports, with `env` over the
   * run's settings: the A/B comparison runs both variants against the same Redis state.
   */
  restart(env: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export async function startSystem(options: SystemOptions): Promise<SystemUnderTest> {
  const prefix = `hwbench-${randomBytes(4).toString("hex")}`;
  const apiKey = `bench-${randomBytes(16).toString("hex")}`;
  const [ingestPort, metricsPort] = await Promise.all([freePort(), freePort()]);
  const env: Record<string, string> = {
    ...serviceEnv({
      redisUrl: options.redisUrl,
      prefix,
      apiKey,
      secretKey: generateSecretKey(),
      ingestPort,
      metricsPort,
    }),
    ...options.env,
  };
  const profile = options.cpuProfileDir === undefined ? {} : { cpuProfileDir: options.cpuProfileDir };
  let ingest = startService("ingest", { env, ...profile });
  // Each worker past the first on a metrics port of its own, found when it starts.
  const startWorkers = async (workerEnv: Record<string, string>) => {
    const count = Number(workerEnv.BENCH_WORKERS ?? 1);
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`BENCH_WORKERS must be a whole number ≥ 1, got ${count}`);
    const started = [startService("worker", { env: workerEnv, ...profile })];
    const ports = [metricsPort];
    for (let i = 1; i < count; i++) {
      const port = await freePort();
      ports.push(port);
      started.push(
        startService("worker", {
          env: { ...workerEnv, HOOKWIRE_WORKER_METRICS_PORT: String(port) },
          ...profile,
        }),
      );
    }
    return { started, ports };
  };
  let { started: workers, ports: workerPorts } = await startWorkers(env);
  // Redis and the keys' prefix as the services read them (on a cluster, the prefix's hash tag).
  const config = loadConfig({ ...env, REDIS_URL: options.redisUrl, HOOKWIRE_QUEUE_PREFIX: prefix });
  const redis = connectRedis(config.redis, "worker", "hookwire-bench");
  const partitions = new Partitions(config.queuePrefix, config.queuePartitions);
  const queues = partitions.all.map(
    (partition) => new Queue(DELIVERY_QUEUE, { connection: redis, prefix: partition.prefix }),
  );
  const client = new IngestClient(`http://127.0.0.1:${ingestPort}`, apiKey);
  const hookSecret = randomBytes(24).toString("hex");
  let hookIds: string[] = [];

  const stop = async () => {
    await Promise.all([ingest.stop(), ...workers.map((worker) => worker.stop())]);
    await client.close().catch(() => undefined);
    await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
    for (const partition of partitions.all) await dropPrefix(redis, partition.prefix).catch(() => undefined);
    redis.disconnect();
  };
  const up = () =>
    Promise.all([
      waitUntilUp(`http://127.0.0.1:${ingestPort}/readyz`, ingest),
      ...workers.map((worker, i) => waitUntilUp(`http://127.0.0.1:${workerPorts[i]}/healthz`, worker)),
    ]);
  try {
    await up();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    prefix: config.queuePrefix,
    get ingest() {
      return ingest;
    },
    get worker() {
      return workers[0] as ServiceProcess;
    },
    get workers() {
      return workers;
    },
    workerMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    ingestMetricsUrl: `http://127.0.0.1:${ingestPort}/metrics`,
    client,
    partitions,
    queues,
    redis,
    hookSecret,
    async setHooks(count, url) {
      for (const id of hookIds) await client.deleteHook(id);
      hookIds = [];
      for (let n = 0; n < count; n++)
        hookIds.push(await client.createHook(`bench-${n}`, `${url}/h/${n}`, hookSecret));
      return [...hookIds];
    },
    async addHook(name, url, delivery) {
      const id = await client.createHook(name, url, hookSecret, delivery);
      hookIds.push(id);
      return id;
    },
    async removeHook(id) {
      await client.deleteHook(id);
      hookIds = hookIds.filter((other) => other !== id);
    },
    async acceptedAt(deliveryIds) {
      const found = new Map<string, number>();
      // Per partition and chunk, through the store's own log (a cluster's MGET stays in one slot).
      for (const { partition, items } of partitions.group(deliveryIds, hookIdOfDelivery)) {
        const log = new DeliveryLog(redis, partition.keys, { claims: partitions.base.keys });
        for (let i = 0; i < items.length; i += 1000) {
          for (const [id, record] of await log.getMany(items.slice(i, i + 1000)))
            found.set(id, record.acceptedAt);
        }
      }
      return found;
    },
    async restart(variant) {
      await Promise.all([ingest.stop(), ...workers.map((worker) => worker.stop())]);
      ingest = startService("ingest", { env: { ...env, ...variant }, ...profile });
      ({ started: workers, ports: workerPorts } = await startWorkers({ ...env, ...variant }));
      await up();
    },
    stop,
  };
}
