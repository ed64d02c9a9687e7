import { MAX_JOB_DELIVERIES } from "@hookwire/queue";
import type { FastifyPluginAsync } from "fastify";
import { redisPersistenceSchema } from "../schemas";
import { type Services, withRedis } from "../services";
import { readStats, type StatsSources } from "../stats";
import { readHealth } from "./hooks";

const count = { type: "integer" } as const;
const percentilesSchema = {
  type: ["object", "null"],
  description: "Milliseconds, interpolated within histogram buckets (as Prometheus' histogram_quantile).",
  properties: {
    count,
    meanMs: { type: "number" },
    p50: { type: "number" },
    p95: { type: "number" },
    p99: { type: "number" },
  },
} as const;
const deliveriesSchema = {
  type: "object",
  properties: {
    succeeded: count,
    failed: count,
    skipped: count,
    stuck: {
      ...count,
      description:
        "Found pending past their next attempt with nothing queued behind them, and queued again by the worker's sweeper.",
    },
  },
} as const;
const attemptsSchema = {
  type: "object",
  properties: { succeeded: count, retry: count, failed: count },
} as const;
const queueStatesSchema = {
  type: "object",
  properties: { waiting: count, prioritized: count, active: count, delayed: count, failed: count },
} as const;

const statsSchema = {
  type: "object",
  properties: {
    generatedAt: { type: "string", format: "date-time" },
    windowMinutes: count,
    minutes: {
      type: "array",
      description: "One per minute of the last hour, oldest first; the last is the current minute.",
      items: {
        type: "object",
        properties: {
          at: { type: "string", format: "date-time", description: "Start of the minute." },
          seconds: {
            type: "integer",
            description: "Seconds of the minute that have passed (60 but for the last).",
          },
          deliveries: deliveriesSchema,
          attempts: attemptsSchema,
          latencyMs: { ...percentilesSchema, description: "Entry accepted → receiver answered 2xx." },
          attemptMs: { ...percentilesSchema, description: "One HTTP attempt." },
          queue: {
            ...queueStatesSchema,
            type: ["object", "null"],
            description: "Queue depth (jobs) as last sampled by a worker that minute.",
          },
        },
      },
    },
    totals: {
      type: "object",
      description: "Over the window.",
      properties: { deliveries: deliveriesSchema, attempts: attemptsSchema },
    },
    latencyMs: {
      type: "object",
      description: "Over the window.",
      properties: { endToEnd: percentilesSchema, attempt: percentilesSchema },
    },
    queue: {
      type: "object",
      properties: {
        jobs: {
          ...queueStatesSchema,
          description: `Jobs by state now; a job carries up to ${MAX_JOB_DELIVERIES} deliveries.`,
        },
        oldestWaitingAgeSeconds: { type: "number" },
      },
    },
    hooks: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          name: { type: "string" },
          integration: { type: "string" },
          on: { type: "boolean" },
          state: { type: "string", enum: ["enabled", "circuit_open", "disabled"] },
          disabled: {
            type: "object",
            description: "Set when hookwire turned the hook off itself.",
            properties: { reason: { type: "string" }, at: { type: "string" } },
          },
          health: {
            type: "object",
            properties: {
              circuit: { type: "string", enum: ["closed", "open", "half_open"] },
              consecutiveFailures: count,
              lastSuccessAt: { type: "string", format: "date-time" },
              lastFailureAt: { type: "string", format: "date-time" },
              lastFailureReason: { type: "string" },
              held: {
                type: "object",
                description:
                  "An ordered hook stopped by a delivery that ran out of attempts: which, why, since when.",
                properties: {
                  deliveryId: { type: "string" },
                  reason: { type: "string" },
                  since: { type: "string", format: "date-time" },
                },
              },
            },
          },
          lastHour: {
            type: "object",
            properties: { succeeded: count, failed: count },
          },
          orderedWaiting: {
            ...count,
            description:
              "An ordered hook's (delivery.ordering \"fifo\") deliveries waiting in its sequence: they are in no queue's job count.",
          },
        },
      },
    },
    redis: {
      type: "object",
      properties: {
        persistence: { ...redisPersistenceSchema, type: ["object", "null"] },
      },
    },
  },
} as const;

export function statsRoutes(services: Services): FastifyPluginAsync {
  const sources = statsSources(services);
  return async (app) => {
    app.get(
      "/v1/stats",
      {
        config: { scope: "read" },
        schema: {
          tags: ["system"],
          summary: "Throughput, failures and latency for the last hour, queue depth, and each hook's health",
          description:
            "Read from counts every worker keeps in Redis per minute, so it covers all workers; the same events feed the Prometheus metrics.",
          security: [{ bearer: [] }],
          response: {
            200: statsSchema,
            401: { $ref: "Error#" },
            403: { $ref: "Error#" },
            503: { $ref: "Error#" },
          },
        },
      },
      async () => withRedis(services, () => readStats(sources)),
    );
  };
}

/** Where the stats and the scrape-time gauges read from. */
export function statsSources(services: Services): StatsSources {
  return {
    redis: services.redis,
    partitions: services.partitions,
    queues: services.lanes.map((lane) => lane.queue),
    hooks: services.hooks,
    readHealth: (ids) => readHealth(services, ids),
    readPersistence: () => services.persistence.read(),
  };
}
