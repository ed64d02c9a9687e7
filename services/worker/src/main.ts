import { ConfigError, createLogger, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import { connectRedis, describeRedis, Partitions, QueueError, settlePartitionCount } from "@hookwire/queue";
import { startMetricsServer } from "./metrics";
import { startDeliveryWorker } from "./worker";

/** The worker process: `node --import tsx services/worker/src/main.ts` (npm start runs it). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel,
    service: "worker",
    pretty: process.env.HOOKWIRE_PRETTY_LOGS === "true",
  });
  const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, process.env));
  for (const problem of catalog.problems) logger.error({ problem }, "integration not loaded");
  const redis = connectRedis(config.redis, "worker", "hookwire-worker");
  redis.on("error", (error) => logger.warn({ err: error.message }, "redis connection error"));
  // A partition count other than the one Redis holds work for is refused (see partitions.ts).
  await settlePartitionCount(redis, new Partitions(config.queuePrefix, config.queuePartitions));
  const delivery = startDeliveryWorker({ config, redis, catalog, logger });
  // HOOKWIRE_HOST is where the process's HTTP listens: ingest's API here, the worker's metrics.
  const metricsServer = await startMetricsServer(delivery.metrics.registry, {
    host: config.ingest.host,
    port: config.worker.metricsPort,
  });
  logger.info(
    {
      redis: describeRedis(config.redis),
      concurrency: config.worker.concurrency,
      integrations: catalog.list().length,
      metricsPort: metricsServer.port,
    },
    "worker started",
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.worker.shutdownGraceMs }, "worker stopping");
    await delivery.close();
    await metricsServer.close();
    redis.disconnect();
    logger.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Under `hookwire start` (an IPC channel to it): stop when it is gone, however it ended.
  if (process.send !== undefined) process.on("disconnect", () => void stop("parent exited"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hookwire worker: ${error instanceof ConfigError || error instanceof QueueError ? error.message : String((error as Error).stack ?? error)}\n`,
  );
  process.exit(1);
});
