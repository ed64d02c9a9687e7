import { createHash } from "node:crypto";
import { entrySchema, normaliseBody } from "@hookwire/entries";
import type { Keyspace } from "@hookwire/queue";
import { isLeaseToken, takeLeases } from "@hookwire/store";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import { entriesAnswerSchema } from "../schemas";
import { type Services, withRedis } from "../services";
import { QueueDepth } from "./queue-depth";

const MAX_ENTRIES = 1_000;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export function entryRoutes(services: Services): FastifyPluginAsync {
  const depth = new QueueDepth(services.queue);
  return async (app) => {
    app.post(
      "/v1/entries",
      {
        config: { scope: "ingest" },
        // The schema documents the body; the entries package checks it, listing every problem
        // with its pointer (Ajv would stop at the first failing branch of anyOf).
        validatorCompiler: () => () => true,
        schema: {
          tags: ["entries"],
          summary: "Post audit log entries: one, or an array of up to 1 000",
          description:
            "Accepts the framework's template context shape or LaunchDarkly's REST audit-log entry. Answers 202 once every delivery is in Redis. " +
            "An entry id (`_id`) seen within the idempotency window is reported as a duplicate and not delivered again; " +
            "an `Idempotency-Key` header does the same for a whole request.",
          security: [{ bearer: [] }],
          headers: {
            type: "object",
            properties: {
              "idempotency-key": { type: "string", description: "Repeat-safe key for the whole request." },
            },
          },
          body: {
            description: "One entry, or an array of entries.",
            anyOf: [entrySchema, { type: "array", items: entrySchema, maxItems: MAX_ENTRIES }],
          },
          response: {
            202: entriesAnswerSchema,
            400: { $ref: "Error#" },
            401: { $ref: "Error#" },
            403: { $ref: "Error#" },
            409: { $ref: "Error#" },
            413: { $ref: "Error#" },
            415: { $ref: "Error#" },
            429: { $ref: "Error#" },
            503: { $ref: "Error#" },
          },
        },
      },
      async (request, reply) => {
        const { entries, issues } = normaliseBody(request.body, { maxEntries: MAX_ENTRIES });
        // Every entry was read (else 400 below): the posted ones are in the same order.
        const posted: unknown[] = Array.isArray(request.body) ? request.body : [request.body];
        if (issues.length > 0) {
          throw new ApiError(
            "API_ERR_BAD_REQUEST",
            `${issues.length} problem(s) in the entries; nothing was accepted`,
            {
              problems: issues,
            },
          );
        }
        const answer = await withRedis(services, async () => {
          if (await depth.isOver(services.config.ingest.maxQueueDepth)) {
            throw new ApiError("API_ERR_OVERLOADED", "the delivery queue is full; retry shortly", {
              retryAfterSeconds: 5,
            });
          }
          const header = request.headers["idempotency-key"];
          if (typeof header !== "string") return { entries: await services.intake.accept(entries, posted) };
          if (!IDEMPOTENCY_KEY_PATTERN.test(header)) {
            throw new ApiError(
              "API_ERR_BAD_REQUEST",
              "Idempotency-Key must be 1 to 200 printable ASCII characters",
              {
                problems: [
                  { pointer: "/headers/idempotency-key", message: "1 to 200 printable ASCII characters" },
                ],
              },
            );
          }
          return idempotent(
            services,
            idempotencyRedisKey(services.keys, request.apiKey?.label ?? "", header),
            async () => ({
              entries: await services.intake.accept(entries, posted),
            }),
            () => reply.header("idempotent-replayed", "true"),
          );
        });
        return reply.status(202).send(answer);
      },
    );
  };
}

/** Where an API key's Idempotency-Key lives in Redis: hashed, so no header value is stored. */
export function idempotencyRedisKey(keys: Keyspace, apiKeyLabel: string, header: string): string {
  return keys.idempotencyKey(createHash("sha256").update(`${apiKeyLabel}:${header}`).digest("hex"));
}

/**
 * Runs `work` once per key within the idempotency window: a repeat gets the first answer back;
 * a repeat while the first is still running gets 409. "Running" is a short lease, renewed while
 * the work goes on, so a crashed first request frees its key within a lease, not a window.
 */
async function idempotent<T>(
  services: Services,
  redisKey: string,
  work: () => Promise<T>,
  onReplay: () => void,
): Promise<T> {
  const { idempotencyWindowMs, claimLeaseMs } = services.config.ingest;
  const { states, lease } = await takeLeases(services.redis, [redisKey], claimLeaseMs);
  if (states[0] !== "taken") {
    const stored = states[0] === "kept" ? await services.redis.get(redisKey) : null;
    if (stored === null || isLeaseToken(stored)) {
      throw new ApiError(
        "API_ERR_IN_PROGRESS",
        "a request with this Idempotency-Key is still being processed",
        {
          retryAfterSeconds: 1,
        },
      );
    }
    onReplay();
    return JSON.parse(stored) as T;
  }
  try {
    const answer = await work();
    const tx = services.redis.multi();
    lease.keep(tx, JSON.stringify(answer), idempotencyWindowMs);
    await tx.exec();
    lease.end();
    return answer;
  } catch (error) {
    await lease.release();
    throw error;
  }
}
