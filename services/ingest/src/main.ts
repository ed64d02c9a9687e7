import { ConfigError, createLogger, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import {
  connectRedis,
  describeRedis,
  Partitions,
  QueueError,
  readRedisPersistence,
  requireDurable,
  settlePartitionCount,
  waitForReady,
} from "@hookwire/queue";
import { HookStore, SecretBox } from "@hookwire/store";
import { buildApp } from "./app";
import { applyHooksFile, HooksFileError } from "./hooks-file";

/** The ingest process: `node --import tsx services/ingest/src/main.ts` (npm start runs it). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel,
    service: "ingest",
    pretty: process.env.HOOKWIRE_PRETTY_LOGS === "true",
  });
  if (config.ingest.apiKeys.length === 0) {
    logger.warn(
      "no API key is configured (HOOKWIRE_API_KEY or HOOKWIRE_API_KEYS): every authenticated route answers 401",
    );
  }
  if (config.ingest.idempotencyWindowMs < config.worker.retentionSucceededMs) {
    logger.warn(
      {
        idempotencyWindowMs: config.ingest.idempotencyWindowMs,
        retentionSucceededMs: config.worker.retentionSucceededMs,
      },
      "HOOKWIRE_IDEMPOTENCY_WINDOW_MS is shorter than HOOKWIRE_RETENTION_SUCCEEDED_MS: a succeeded delivery is found by id through its entry's claim, so GET /v1/deliveries/:id answers 404 once the claim lapses (listings still show it)",
    );
  }
  const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, process.env));
  for (const problem of catalog.problems) logger.error({ problem }, "integration not loaded");
  for (const notice of catalog.notices) logger.info({ notice }, "integration notice");

  const redis = connectRedis(config.redis, "api", "hookwire-ingest");
  redis.on("error", (error) => logger.warn({ err: error.message }, "redis connection error"));
  const ready = await waitForReady(redis, 10_000).then(
    () => true,
    () => false,
  );
  if (config.ingest.requireDurableRedis) {
    // Refused before listening: no entry is acknowledged by an ingest that could lose it.
    if (!ready) {
      throw new QueueError(
        "QUEUE_ERR_UNAVAILABLE",
        `HOOKWIRE_REQUIRE_DURABLE_REDIS=true, but the Redis at ${describeRedis(config.redis)} did not answer within 10 s, so its persistence cannot be checked`,
      );
    }
    requireDurable(await readRedisPersistence(redis), describeRedis(config.redis));
  } else if (!ready) {
    logger.warn(
      { redis: describeRedis(config.redis) },
      "Redis does not answer yet; /readyz says so until it does",
    );
  }

  // A partition count other than the one Redis holds work for is refused (see partitions.ts):
  // before listening when Redis answers, else as soon as it does.
  const partitions = new Partitions(config.queuePrefix, config.queuePartitions);
  if (ready) await settlePartitionCount(redis, partitions);
  else
    redis.once("ready", () => {
      settlePartitionCount(redis, partitions).catch((error: unknown) => {
        process.stderr.write(`hookwire ingest: ${(error as Error).message}\n`);
        process.exit(1);
      });
    });

  if (config.ingest.hooksFile !== undefined && config.secretKey !== undefined) {
    const store = new HookStore(redis, partitions.base.keys, new SecretBox(config.secretKey));
    const applied = await applyHooksFile(config.ingest.hooksFile, catalog, store);
    logger.info({ file: config.ingest.hooksFile, ...applied }, "hooks file applied");
  }

  const app = await buildApp({ config, redis, catalog, logger });
  await app.listen({ host: config.ingest.host, port: config.ingest.port });
  logger.info(
    {
      port: config.ingest.port,
      redis: describeRedis(config.redis),
      integrations: catalog.list().length,
    },
    "ingest listening",
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "ingest stopping");
    await app.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Under `hookwire start` (an IPC channel to it): stop when it is gone, however it ended.
  if (process.send !== undefined) process.on("disconnect", () => void stop("parent exited"));
}

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError || error instanceof HooksFileError || error instanceof QueueError;
  process.stderr.write(
    `hookwire ingest: ${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`,
  );
  process.exit(1);
});
