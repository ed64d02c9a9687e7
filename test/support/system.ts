import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger, type HookwireConfig, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import type { Sender } from "@hookwire/delivery";
import { buildApp } from "@hookwire/ingest";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import {
  connectRedis,
  DELIVERY_QUEUE,
  Partitions,
  settlePartitionCount,
  waitForReady,
} from "@hookwire/queue";
import { type DeliveryWorker, startDeliveryWorker } from "@hookwire/worker";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { dropPrefix, REDIS_URL, uniquePrefix } from "./redis";

export interface System {
  config: Readonly<HookwireConfig>;
  /** The environment the config was read from, for worker processes a test starts itself. */
  env: Record<string, string>;
  app: FastifyInstance;
  /** Where the ingest API listens (a real socket on port 0). */
  baseUrl: string;
  apiKey: string;
  worker: DeliveryWorker | undefined;
  redis: Redis;
  /** Every log line both services wrote, for tests that look for secrets. */
  logLines: string[];
  /** POST/GET/... against the API with the admin key. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any; headers: Headers }>;
  /** Waiting + active + delayed jobs on the delivery queues (every partition's). */
  pendingJobs(): Promise<number>;
  close(): Promise<void>;
}

export interface SystemOptions {
  label: string;
  env?: Record<string, string>;
  worker?: boolean;
  /** The worker's sender, for a test that gives it settings of its own (e.g. `routeOrigin`). */
  sender?: Sender;
  /** Leave the prefix's keys in Redis on close: another system of the test goes on with them. */
  keepKeys?: boolean;
}

/** Ingest and a worker, in this process, against the real Redis under a prefix of their own. */
export async function startSystem(options: SystemOptions): Promise<System> {
  const prefix = uniquePrefix(options.label);
  const apiKey = `test-admin-${randomBytes(12).toString("hex")}`;
  const env: Record<string, string> = {
    REDIS_URL,
    HOOKWIRE_QUEUE_PREFIX: prefix,
    HOOKWIRE_API_KEY: apiKey,
    HOOKWIRE_SECRET_KEY: randomBytes(32).toString("hex"),
    HOOKWIRE_ALLOWED_NETWORKS: "127.0.0.0/8",
    HOOKWIRE_RETRY_SCHEDULE: "0.05,0.1",
    HOOKWIRE_PORT: "0",
    LOG_LEVEL: "debug",
    ...options.env,
  };
  const config = loadConfig(env);
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, service: "test", destination: sink });
  // The project's catalog, and the folders the test names in HOOKWIRE_INTEGRATIONS_DIR.
  const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, env));
  const apiRedis = connectRedis(config.redis, "api", "hookwire-test-ingest");
  const workerRedis = connectRedis(config.redis, "worker", "hookwire-test-worker");
  // The API answers 503 until its connection is ready; tests start once it is.
  await waitForReady(apiRedis, 10_000);
  // The test's own connection, to the same Redis as the services (a Sentinel group's master too).
  const redis = connectRedis(config.redis, "worker", "hookwire-test");
  // As the services' main.ts do before they start.
  const partitions = new Partitions(config.queuePrefix, config.queuePartitions);
  await settlePartitionCount(redis, partitions);
  const app = await buildApp({ config, redis: apiRedis, catalog, logger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const worker =
    options.worker === false
      ? undefined
      : startDeliveryWorker({
          config,
          redis: workerRedis,
          catalog,
          logger,
          ...(options.sender !== undefined ? { sender: options.sender } : {}),
        });
  // The prefixes as the services use them (on a cluster, each under a hash tag of its own).
  const queues = partitions.all.map(({ prefix }) => new Queue(DELIVERY_QUEUE, { connection: redis, prefix }));
  // A test that stops Redis (or its master) sees the drop in the services' logs, not on stderr.
  for (const queue of queues) queue.on("error", () => undefined);

  return {
    config,
    env,
    app,
    baseUrl,
    apiKey,
    worker,
    redis,
    logLines,
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text === "" ? undefined : JSON.parse(text),
        headers: response.headers,
      };
    },
    async pendingJobs() {
      const all = await Promise.all(
        queues.map((queue) => queue.getJobCounts("waiting", "active", "delayed", "prioritized")),
      );
      return all.flatMap((counts) => Object.values(counts)).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      await worker?.close(2_000);
      await app.close();
      await Promise.all(queues.map((queue) => queue.close()));
      if (!options.keepKeys) for (const { prefix } of partitions.all) await dropPrefix(redis, prefix);
      apiRedis.disconnect();
      workerRedis.disconnect();
      redis.disconnect();
    },
  };
}
