import { createHash } from "node:crypto";
import { entrySchema, normaliseBody } from "@hookwire/entries";
import { deliveryIdOf, type Keyspace } from "@hookwire/queue";
import { decodeClaim, decodeEntryTrace, isLeaseToken, takeLeases } from "@hookwire/store";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import { entriesAnswerSchema, entryTraceSchema, errorResponses } from "../schemas";
import { type Services, withRedis } from "../services";
import { QueueDepth } from "./queue-depth";

const MAX_ENTRIES = 1_000;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export function entryRoutes(services: Services): FastifyPluginAsync {
  const depth = new QueueDepth(
    services.redis,
    services.lanes.map((lane) => ({ queue: lane.queue, sequences: lane.writer.outbox.sequences })),
    async () =>
      (await services.hooks.enabled())
        .filter((hook) => hook.delivery.ordering === "fifo")
        .map((hook) => ({ hookId: hook.id, source: services.partitions.of(hook.id).index })),
  );
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

    app.get<{ Params: { id: string } }>(
      "/v1/entries/:id",
      {
        config: { scope: "read" },
        schema: {
          tags: ["entries"],
          summary: "What became of an entry: each hook's outcome, and why",
          description:
            "For the idempotency window after the entry was accepted: per hook enabled then, `queued` with its delivery id and the delivery's status, `filtered` with the policy's reason, `skipped` or `render_failed` with theirs.",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
          response: { 200: entryTraceSchema, ...errorResponses, 409: { $ref: "Error#" } },
        },
      },
      async (request) => withRedis(services, () => entryTrace(services, request.params.id)),
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

/** GET /v1/entries/:id: the entry's claim names the request that accepted it, whose trace is read. */
async function entryTrace(services: Services, entryId: string) {
  const { keys, redis, log, hooks } = services;
  const claim = await redis.get(keys.entrySeen(entryId));
  if (claim === null) {
    throw new ApiError("API_ERR_NOT_FOUND", `no entry ${entryId} was accepted within the idempotency window`);
  }
  if (isLeaseToken(claim)) {
    throw new ApiError(
      "API_ERR_IN_PROGRESS",
      `entry ${entryId} is being accepted by a request now; retry shortly`,
      {
        retryAfterSeconds: 1,
      },
    );
  }
  const raw = await redis.get(keys.requestTrace(decodeClaim(claim).request));
  const trace = raw === null ? undefined : decodeEntryTrace(raw, entryId);
  if (trace === undefined) {
    throw new ApiError(
      "API_ERR_NOT_FOUND",
      `entry ${entryId} was accepted, but no trace of it is kept (it was accepted before traces were)`,
    );
  }
  const deliveryIds = trace.hooks.map(({ hookId, traced }) =>
    traced.outcome === "queued" ? deliveryIdOf(hookId, entryId) : undefined,
  );
  const records = await log.getMany(deliveryIds.filter((id): id is string => id !== undefined));
  const names = new Map((await hooks.list()).map((hook) => [hook.id, hook.name]));
  return {
    id: entryId,
    acceptedAt: new Date(trace.at).toISOString(),
    hooks: trace.hooks.map(({ hookId, traced }, i) => {
      const name = names.get(hookId);
      const common = { hookId, ...(name === undefined ? {} : { name }), outcome: traced.outcome };
      if (traced.outcome === "filtered") {
        return {
          ...common,
          reason:
            traced.statement === null
              ? "no statement of the hook's policy allows any of the entry's accesses (denied by default)"
              : `denied by statement ${traced.statement} of the hook's policy`,
        };
      }
      if (traced.outcome !== "queued") return { ...common, reason: traced.reason };
      const deliveryId = deliveryIds[i] ?? "";
      const record = records.get(deliveryId);
      return {
        ...common,
        deliveryId,
        ...(record === undefined ? { status: "expired" } : { status: record.status }),
      };
    }),
  };
}
