import { createLogger, loadConfig, PROJECT_ROOT } from "@hookwire/config";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import { connectRedis } from "@hookwire/queue";
import { type DeliveryWorker, startDeliveryWorker } from "@hookwire/worker";
import { afterEach } from "vitest";
import { type Receiver, type Responder, startReceiver } from "./receiver";
import { type System, type SystemOptions, startSystem } from "./system";

/**
 * A cleanup still under way after this is left to itself, so that the ones after it run: a system
 * stopping against a frozen Redis must not keep that Redis from being thawed and stopped.
 */
const CLEANUP_LIMIT_MS = 10_000;

async function withinLimit(cleanup: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`a test's cleanup did not end within ${CLEANUP_LIMIT_MS} ms`)),
      CLEANUP_LIMIT_MS,
    );
  });
  try {
    await Promise.race([cleanup(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a test starts, stopped after it in the reverse order (receivers, systems, extra workers),
 * so each test of a file gets its own and none leaks into the next. Call once per file. Every
 * cleanup runs, whatever the ones before it did; the first failure is the hook's.
 */
export function testScope() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      await withinLimit(cleanup).catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw failures[0];
  });
  return {
    /** Runs `cleanup` after the test. */
    defer(cleanup: () => Promise<void>): void {
      cleanups.push(cleanup);
    },
    async system(options: SystemOptions): Promise<System> {
      const started = await startSystem(options);
      cleanups.push(() => started.close());
      return started;
    },
    async receiver(respond?: Responder): Promise<Receiver> {
      const started = await startReceiver(respond);
      cleanups.push(() => started.close());
      return started;
    },
    /**
     * A worker in this process on the system's Redis, with connections, state and a worker id
     * of its own, and settings of its own on top of the system's (e.g. another secret key).
     */
    async worker(sys: System, env: Record<string, string> = {}): Promise<DeliveryWorker> {
      const config = loadConfig({ ...sys.env, ...env });
      const catalog = await loadCatalog(catalogDirs(PROJECT_ROOT, { ...sys.env, ...env }));
      const redis = connectRedis(config.redis, "worker", "hookwire-test-worker");
      const worker = startDeliveryWorker({
        config,
        redis,
        catalog,
        logger: createLogger({ level: "silent", service: "test" }),
        defaultMetrics: false,
      });
      cleanups.push(async () => {
        await worker.close(500);
        redis.disconnect();
      });
      return worker;
    },
  };
}
