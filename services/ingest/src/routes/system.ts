import { describeRedis, durabilityProblem, type RedisPersistence } from "@hookwire/queue";
import type { FastifyPluginAsync } from "fastify";
import { redisPersistenceSchema } from "../schemas";
import type { Services } from "../services";

const READY_TIMEOUT_MS = 1_000;

export function systemRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/healthz",
      {
        schema: {
          tags: ["system"],
          summary: "The process is up",
          response: { 200: { type: "object", properties: { status: { type: "string" } } } },
        },
      },
      async () => ({ status: "ok" }),
    );

    app.get(
      "/readyz",
      {
        schema: {
          tags: ["system"],
          summary: "Redis answers: the service can accept entries",
          description:
            "Also says what Redis keeps on disk (`persistence`). With HOOKWIRE_REQUIRE_DURABLE_REDIS=true, a Redis whose append-only file is off answers 503.",
          response: {
            200: {
              type: "object",
              properties: { status: { type: "string" }, persistence: redisPersistenceSchema },
            },
            503: {
              type: "object",
              properties: {
                status: { type: "string" },
                reason: { type: "string" },
                persistence: redisPersistenceSchema,
              },
            },
          },
        },
      },
      async (_request, reply) => {
        const { reason, persistence } = await redisProblem(services);
        if (reason === undefined) return { status: "ready", persistence };
        reply.header("retry-after", "2");
        return reply
          .status(503)
          .send({ status: "unavailable", reason, ...(persistence ? { persistence } : {}) });
      },
    );
  };
}

interface Readiness {
  reason?: string;
  persistence?: RedisPersistence;
}

async function redisProblem(services: Services): Promise<Readiness> {
  if (services.redis.status !== "ready") {
    const persistence = services.persistence.last;
    return {
      reason: `Redis connection is ${services.redis.status}`,
      ...(persistence ? { persistence } : {}),
    };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer PING within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
    });
    const [, persistence] = await Promise.race([
      Promise.all([services.redis.ping(), services.persistence.read()]),
      timeout,
    ]);
    const problem = services.config.ingest.requireDurableRedis
      ? durabilityProblem(persistence, describeRedis(services.config.redis))
      : undefined;
    return problem === undefined ? { persistence } : { reason: problem, persistence };
  } catch (error) {
    return { reason: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
