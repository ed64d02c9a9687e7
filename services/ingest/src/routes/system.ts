import type { FastifyPluginAsync } from "fastify";
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
          response: {
            200: { type: "object", properties: { status: { type: "string" } } },
            503: { type: "object", properties: { status: { type: "string" }, reason: { type: "string" } } },
          },
        },
      },
      async (_request, reply) => {
        const reason = await redisProblem(services);
        if (reason === undefined) return { status: "ready" };
        reply.header("retry-after", "2");
        return reply.status(503).send({ status: "unavailable", reason });
      },
    );
  };
}

async function redisProblem(services: Services): Promise<string | undefined> {
  if (services.redis.status !== "ready") return `Redis connection is ${services.redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer PING within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
    });
    await Promise.race([services.redis.ping(), timeout]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}
