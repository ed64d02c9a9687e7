/**
 * An ordered hook's sequence, for operators: how many deliveries wait, the head, and, when a
 * delivery that ran out of attempts holds the hook, the two ways on: retry it (its delivery goes
 * back into the sequence, and the hook with it) or skip it (it stays in the dead letters, and the
 * next follows).
 */
import type { HeldHead } from "@hookwire/queue";
import type { DeliveryRecord, Hook } from "@hookwire/store";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import { errorResponses } from "../schemas";
import { laneOf, type Services, withRedis } from "../services";
import { findHook, idParams } from "./hooks";
import { retryDelivery } from "./replay";

const orderingSchema = {
  type: "object",
  properties: {
    hookId: { type: "string" },
    ordering: { type: ["string", "null"], description: 'The hook\'s delivery.ordering: "fifo", or null.' },
    onExhausted: { type: "string", enum: ["hold", "skip"] },
    pending: {
      type: "integer",
      description: "Deliveries waiting in the hook's sequence, the head included.",
    },
    head: {
      type: ["object", "null"],
      description: "The delivery sent next (or in flight), by the entry's time.",
      properties: {
        deliveryId: { type: "string" },
        entryId: { type: "string" },
        attemptsMade: { type: "integer" },
      },
    },
    held: {
      type: ["object", "null"],
      description: "The delivery that ran out of attempts and holds the hook, why, and since when.",
      properties: { deliveryId: { type: "string" }, reason: { type: "string" }, since: { type: "string" } },
    },
  },
} as const;

interface OrderingView {
  hookId: string;
  ordering: "fifo" | null;
  onExhausted: "hold" | "skip";
  pending: number;
  head: { deliveryId: string; entryId: string; attemptsMade: number } | null;
  held: HeldHead | null;
}

export function orderingRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>(
      "/v1/hooks/:id/ordering",
      {
        config: { scope: "read" },
        schema: {
          tags: ["hooks"],
          summary: "An ordered hook's sequence: what waits, and what holds it",
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: orderingSchema, ...errorResponses },
        },
      },
      async (request) => viewOf(services, await findHook(services, request.params.id)),
    );

    app.post<{ Params: { id: string } }>(
      "/v1/hooks/:id/ordering/retry",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Send the delivery that holds an ordered hook again, and let the hook go on",
          description:
            "The held delivery gets one more attempt now; should it fail again, the hook is held again. 409 when the hook is not held.",
          security: [{ bearer: [] }],
          params: idParams,
          response: { 202: orderingSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const hook = await findHook(services, request.params.id);
        const record = await heldRecord(services, hook);
        await withRedis(services, () => retryDelivery(services, record));
        request.log.info({ hookId: hook.id, deliveryId: record.id }, "held ordered delivery retried");
        return reply.status(202).send(await viewOf(services, hook));
      },
    );

    app.post<{ Params: { id: string } }>(
      "/v1/hooks/:id/ordering/skip",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary:
            "Skip the delivery that holds an ordered hook: it stays in the dead letters, and the next follows",
          description: "409 when the hook is not held.",
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: orderingSchema, ...errorResponses },
        },
      },
      async (request) => {
        const hook = await findHook(services, request.params.id);
        const lane = laneOf(services, hook.id);
        const skipped = await withRedis(services, async () => {
          const id = await lane.writer.outbox.sequences.skipHeld(services.redis, hook.id);
          const record = id === undefined ? undefined : await services.log.get(id);
          if (record !== undefined) {
            const now = Date.now();
            const reason = `${record.reason ?? "failed"}; skipped by an operator at ${new Date(now).toISOString()}`;
            await lane.writer.commit({
              updates: [{ record: { ...record, reason, updatedAt: now }, previous: record.status }],
            });
          }
          return id;
        });
        if (skipped === undefined) throw notHeld(hook);
        request.log.info({ hookId: hook.id, deliveryId: skipped }, "held ordered delivery skipped");
        return viewOf(services, hook);
      },
    );
  };
}

async function viewOf(services: Services, hook: Hook): Promise<OrderingView> {
  const sequences = laneOf(services, hook.id).writer.outbox.sequences;
  const view = await withRedis(services, () => sequences.view(services.redis, hook.id));
  return {
    hookId: hook.id,
    ordering: hook.delivery.ordering ?? null,
    onExhausted: hook.delivery.onExhausted ?? "hold",
    pending: view.pending,
    head:
      view.head === undefined
        ? null
        : { deliveryId: view.head.id, entryId: view.head.entryId, attemptsMade: view.head.attemptsMade },
    held: view.held ?? null,
  };
}

/** The record of the delivery that holds the hook, to send again; 409 when none does. */
async function heldRecord(services: Services, hook: Hook): Promise<DeliveryRecord> {
  const { held } = await viewOf(services, hook);
  if (held === null) throw notHeld(hook);
  const record = await withRedis(services, () => services.log.get(held.deliveryId));
  if (record === undefined)
    throw new ApiError(
      "API_ERR_CONFLICT",
      `hook ${hook.id} is held by delivery ${held.deliveryId}, whose record has expired: skip it`,
    );
  return record;
}

function notHeld(hook: Hook): ApiError {
  return new ApiError(
    "API_ERR_CONFLICT",
    `hook ${hook.id} is not held: no delivery of it ran out of attempts`,
  );
}
