import type { DeliveryRecord, DeliveryStatus } from "@hookwire/store";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import { deliverySchema, errorResponses } from "../schemas";
import { type Services, withRedis } from "../services";
import { deliveryRequests } from "./delivery-request";
import { findIntegration } from "./integrations";
import { retryDelivery } from "./replay";

const headerSchema = {
  type: "object",
  properties: { name: { type: "string" }, value: { type: "string" } },
} as const;

const deliveryRequestsSchema = {
  type: "object",
  properties: {
    deliveryId: { type: "string" },
    bodyKept: {
      type: "boolean",
      description: "Whether the body is known: a delivery keeps its payload only while it can be retried.",
    },
    keepsErrorBody: {
      type: "boolean",
      description: "Whether hookwire keeps this integration's error answers (errorBody of the attempts).",
    },
    note: {
      type: "string",
      description: "From what the requests were rebuilt, and what of them is not known.",
    },
    requests: {
      type: "array",
      items: {
        type: "object",
        properties: {
          attempt: { type: "integer" },
          at: { type: "number" },
          method: { type: "string" },
          url: { type: "string", description: "Secrets in it shown as ********." },
          headers: {
            type: "array",
            items: headerSchema,
            description: "Secret values and signatures shown as ********.",
          },
          body: { type: ["string", "null"], description: "null when it is not kept." },
        },
      },
    },
  },
} as const;

interface ListQuery {
  hookId?: string;
  entryId?: string;
  status?: DeliveryStatus;
  cursor?: string;
  limit?: number;
}

export function deliveryRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: ListQuery }>(
      "/v1/deliveries",
      {
        config: { scope: "read" },
        schema: {
          tags: ["deliveries"],
          summary: "Deliveries, newest first, with their attempts",
          security: [{ bearer: [] }],
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              hookId: { type: "string" },
              entryId: { type: "string" },
              status: { type: "string", enum: ["pending", "succeeded", "failed", "skipped"] },
              cursor: { type: "string", description: "nextCursor of the previous page." },
              limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            },
          },
          response: {
            200: {
              type: "object",
              properties: {
                deliveries: { type: "array", items: deliverySchema },
                nextCursor: { type: "string" },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const page = await withRedis(services, () => services.log.list(request.query));
        return {
          deliveries: page.deliveries.map(shown),
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
        };
      },
    );

    app.get<{ Params: { id: string } }>(
      "/v1/deliveries/:id",
      {
        config: { scope: "read" },
        schema: {
          tags: ["deliveries"],
          summary: "One delivery with every attempt",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
          response: { 200: deliverySchema, ...errorResponses },
        },
      },
      async (request) => shown(await find(services, request.params.id)),
    );

    app.get<{ Params: { id: string } }>(
      "/v1/deliveries/:id/request",
      {
        config: { scope: "read" },
        schema: {
          tags: ["deliveries"],
          summary: "The request each attempt of a delivery sent, secrets masked",
          description:
            "Rebuilt from the delivery's kept payload and the hook's settings by the builder the worker sends with. Secret values (form variables, OAuth tokens, a URL's password) and signatures are shown as ********; a body that is not kept is null.",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
          response: { 200: deliveryRequestsSchema, 409: { $ref: "Error#" }, ...errorResponses },
        },
      },
      async (request) => {
        const record = await find(services, request.params.id);
        const hook = await withRedis(services, () => services.hooks.get(record.hookId));
        if (hook === undefined)
          throw new ApiError(
            "API_ERR_NOT_FOUND",
            `the hook ${record.hookId} of delivery ${record.id} is deleted: its request cannot be rebuilt`,
          );
        return deliveryRequests(
          record,
          hook,
          findIntegration(services, hook.integration),
          services.sender.privateNetworksBlocked,
          services.config.worker.perHookConcurrency,
        );
      },
    );

    app.post<{ Params: { id: string } }>(
      "/v1/deliveries/:id/retry",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["deliveries"],
          summary: "Queue a failed delivery again, for one more attempt",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
          response: { 202: deliverySchema, 409: { $ref: "Error#" }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const record = await find(services, request.params.id);
        const queued = await withRedis(services, () => retryDelivery(services, record));
        return reply.status(202).send(shown(queued));
      },
    );
  };
}

async function find(services: Services, id: string): Promise<DeliveryRecord> {
  const record = await withRedis(services, () => services.log.get(id));
  if (record === undefined)
    throw new ApiError("API_ERR_NOT_FOUND", `no delivery with id ${id} (it may have expired)`);
  return record;
}

/** What the API shows of a record: everything but the kept payload. */
function shown(record: DeliveryRecord): Omit<DeliveryRecord, "payload"> {
  const { payload: _payload, ...rest } = record;
  return rest;
}
