import type { FastifyPluginAsync } from "fastify";
import type { IngestMetrics } from "../metrics";

/**
 * `GET /metrics`, Prometheus text. Public like /healthz: it names no hook, URL or key, and
 * Prometheus scrapes without credentials; keep the port off the internet or filter it at the proxy.
 */
export function metricsRoutes(metrics: IngestMetrics): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/metrics",
      {
        schema: {
          tags: ["system"],
          summary: "Prometheus metrics (text exposition format)",
          description:
            "Entries, routing decisions, queue jobs by state, oldest waiting job, hooks by state, HTTP timings, Node process metrics. The worker serves its delivery metrics on HOOKWIRE_WORKER_METRICS_PORT.",
          response: { 200: { type: "string" } },
        },
      },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  };
}
