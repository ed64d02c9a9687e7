import type { Integration } from "@hookwire/manifest";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import type { Services } from "../services";

const errors = { 401: { $ref: "Error#" }, 403: { $ref: "Error#" }, 404: { $ref: "Error#" } };

const formVariableSchema = { type: "object", additionalProperties: true } as const;
const integrationSummarySchema = {
  type: "object",
  properties: {
    key: { type: "string" },
    name: { type: "string" },
    overview: { type: "string" },
    deliverable: { type: "boolean" },
    requiresOAuth: { type: "boolean" },
  },
} as const;
const integrationSchema = {
  type: "object",
  properties: {
    ...integrationSummarySchema.properties,
    description: { type: "string" },
    formVariables: { type: "array", items: formVariableSchema },
    defaultPolicy: { type: "array", items: { type: "object", additionalProperties: true } },
    endpoint: {
      type: "object",
      additionalProperties: true,
      description:
        "URL, method and headers templates; header values never hold secrets here, only their templates.",
    },
    templates: {
      type: "array",
      items: { type: "string" },
      description: "Template keys the integration defines.",
    },
    includeErrorResponseBody: { type: "boolean" },
    useStandardWebhookPayload: { type: "boolean" },
    manifest: { type: "object", additionalProperties: true },
  },
} as const;

export function integrationRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/v1/integrations",
      {
        config: { scope: "read" },
        schema: {
          tags: ["integrations"],
          summary: "The catalog: every integration hooks can use",
          security: [{ bearer: [] }],
          response: {
            200: {
              type: "object",
              properties: { integrations: { type: "array", items: integrationSummarySchema } },
            },
            ...errors,
          },
        },
      },
      async () => ({ integrations: services.catalog.list().map(summary) }),
    );

    app.get<{ Params: { key: string } }>(
      "/v1/integrations/:key",
      {
        config: { scope: "read" },
        schema: {
          tags: ["integrations"],
          summary: "One integration: manifest, form variables, default policy",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { key: { type: "string" } }, required: ["key"] },
          response: { 200: integrationSchema, ...errors },
        },
      },
      async (request) => {
        const integration = findIntegration(services, request.params.key);
        return {
          ...summary(integration),
          description: String(integration.manifest.description ?? ""),
          formVariables: integration.formVariables,
          defaultPolicy: integration.defaultPolicy,
          endpoint: integration.endpoint,
          templates: Object.keys(integration.templates),
          includeErrorResponseBody: integration.includeErrorResponseBody,
          useStandardWebhookPayload: integration.useStandardWebhookPayload,
          manifest: integration.manifest,
        };
      },
    );
  };
}

export function findIntegration(services: Services, key: string): Integration {
  const integration = services.catalog.get(key);
  if (integration === undefined)
    throw new ApiError("API_ERR_NOT_FOUND", `no integration '${key}' in the catalog`);
  return integration;
}

function summary(integration: Integration) {
  return {
    key: integration.key,
    name: integration.name,
    overview: String(integration.manifest.overview ?? ""),
    deliverable: integration.deliverable,
    requiresOAuth: integration.requiresOAuth,
  };
}
