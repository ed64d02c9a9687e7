import { normaliseEntry, renderMarkdown } from "@hookwire/entries";
import {
  coerceFormValue,
  type FormValues,
  type Integration,
  previewRequest,
  TEMPLATE_KEYS,
  type TemplateKey,
} from "@hookwire/manifest";
import { TemplateError } from "@hookwire/templates";
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../errors";
import { errorResponses } from "../schemas";
import type { Services } from "../services";

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
    description: { type: "string", description: "Markdown (LaunchDarkly's dialect)." },
    descriptionHtml: {
      type: "string",
      description: "The description rendered as the framework renders Markdown: every text HTML-escaped.",
    },
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
            ...errorResponses,
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
          response: { 200: integrationSchema, ...errorResponses },
        },
      },
      async (request) => {
        const integration = findIntegration(services, request.params.key);
        const description = String(integration.manifest.description ?? "");
        return {
          ...summary(integration),
          description,
          descriptionHtml: renderMarkdown(description).html,
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

    app.post<{
      Params: { key: string };
      Body: { entry: unknown; formVariables?: Record<string, unknown>; template?: TemplateKey };
    }>(
      "/v1/integrations/:key/preview",
      {
        config: { scope: "read" },
        schema: {
          tags: ["integrations"],
          summary:
            "Render exactly what a hook of this integration would send for an entry, without sending it",
          description:
            "Form variables not given get their default, else a placeholder ($KEY) as in the framework's preview. A JSON template that renders invalid JSON is still shown, with a warning.",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { key: { type: "string" } }, required: ["key"] },
          body: {
            type: "object",
            additionalProperties: false,
            required: ["entry"],
            properties: {
              entry: { type: "object", description: "An entry in either accepted shape." },
              formVariables: { type: "object", additionalProperties: { type: ["string", "boolean"] } },
              template: {
                type: "string",
                enum: [...TEMPLATE_KEYS],
                description: "Render this template instead of the entry kind's.",
              },
            },
          },
          response: {
            200: {
              type: "object",
              properties: {
                method: { type: "string" },
                url: { type: "string" },
                headers: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: { name: { type: "string" }, value: { type: "string" } },
                  },
                },
                body: { type: ["string", "null"] },
                template: { type: "string" },
                warnings: { type: "array", items: { type: "string" } },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const integration = findIntegration(services, request.params.key);
        const normalised = normaliseEntry(request.body.entry, "/entry");
        if (normalised.entry === undefined) {
          throw new ApiError("API_ERR_BAD_REQUEST", "the entry is invalid", { problems: normalised.issues });
        }
        const given = formValuesOf(integration, request.body.formVariables ?? {});
        try {
          return previewRequest(
            integration,
            normalised.entry,
            given,
            request.body.template,
            request.body.entry as object,
          );
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          throw new ApiError("API_ERR_BAD_REQUEST", error.message, {
            problems: [{ pointer: "/template", message: error.message }],
          });
        }
      },
    );
  };
}

/** Known form variables, booleans given as text coerced; unknown ones are refused with their pointer. */
function formValuesOf(integration: Integration, given: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  const problems = [];
  for (const [key, value] of Object.entries(given)) {
    const variable = integration.formVariables.find((v) => v.key === key);
    const coerced =
      variable === undefined
        ? undefined
        : typeof value === "string"
          ? coerceFormValue(variable, value)
          : value;
    if (variable === undefined || (typeof coerced !== "string" && typeof coerced !== "boolean")) {
      problems.push({
        pointer: `/formVariables/${key}`,
        message:
          variable === undefined
            ? `${integration.key} has no form variable "${key}"`
            : "expected a string or a boolean",
      });
    } else values[key] = coerced;
  }
  if (problems.length > 0)
    throw new ApiError("API_ERR_BAD_REQUEST", "the form variables are invalid", { problems });
  return values;
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
