import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { FORM_VARIABLE_TYPES, TEMPLATE_KEYS } from "./integration";

/**
 * hookwire's JSON schema of an integration manifest: the parts hookwire reads
 * (`capabilities.auditLogEventsHook`, `formVariables` with every type and field,
 * `requiresOAuth`) strictly, the descriptive fields loosely, other capabilities not at all
 * (the loader notes them). It accepts every manifest the framework's own schema accepts.
 */

const stringList = { type: "array", items: { type: "string" } } as const;

const endpoint = {
  type: "object",
  required: ["url", "method"],
  additionalProperties: false,
  properties: {
    url: { type: "string", minLength: 1 },
    method: { enum: ["POST", "PUT", "PATCH", "GET", "DELETE"] },
    headers: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "value"],
        additionalProperties: false,
        properties: {
          // RFC 9110 token: anything else is refused by the HTTP client when sending.
          name: { type: "string", minLength: 1, maxLength: 256, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
          value: { type: "string" },
        },
      },
    },
    hmacSignature: {
      type: "object",
      required: ["headerName", "hmacSecretFormVariableKey"],
      additionalProperties: false,
      properties: {
        headerName: { type: "string", minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
        hmacSecretFormVariableKey: { type: "string", minLength: 1 },
      },
    },
  },
} as const;

const labelledOption = {
  type: "object",
  required: ["label", "value"],
  additionalProperties: false,
  properties: { label: { type: "string" }, value: { type: "string" } },
} as const;

const formVariable = {
  type: "object",
  required: ["key", "name", "type"],
  additionalProperties: false,
  properties: {
    // A key is the name templates use: `{{key}}` in the URL, `{{formVariables.key}}` in a body.
    key: { type: "string", minLength: 1, maxLength: 100, pattern: "^\\S+$" },
    name: { type: "string", minLength: 1, maxLength: 100 },
    type: { enum: FORM_VARIABLE_TYPES },
    description: { type: "string" },
    placeholder: { type: "string" },
    isSecret: { type: "boolean" },
    isHidden: { type: "boolean" },
    isOptional: { type: "boolean" },
    disableAfterSaving: { type: "boolean" },
    hideEmpty: { type: "boolean" },
    defaultValue: { type: ["string", "boolean"] },
    allowedValues: stringList,
    dynamicOptions: {
      type: "object",
      required: ["endpoint", "parser"],
      additionalProperties: false,
      properties: {
        endpoint,
        parser: {
          type: "object",
          required: ["optionsPath", "optionsItems"],
          additionalProperties: false,
          properties: {
            optionsPath: { type: "string" },
            optionsItems: labelledOption,
          },
        },
      },
    },
    dependsOn: {
      type: "array",
      items: {
        type: "object",
        required: ["variableKey", "variableLocation", "conditions", "action"],
        additionalProperties: false,
        properties: {
          variableKey: { type: "string" },
          variableLocation: { enum: ["approvalFormVariables", "environmentFormVariables", "formVariables"] },
          action: { enum: ["hideField", "showField"] },
          conditions: {
            type: "array",
            items: {
              type: "object",
              required: ["operator", "value"],
              additionalProperties: false,
              properties: {
                operator: {
                  enum: [
                    "lessThan",
                    "lessThanOrEqualTo",
                    "greaterThan",
                    "greaterThanOrEqualTo",
                    "equalTo",
                    "notEqual",
                    "contains",
                    "startsWith",
                    "endsWith",
                  ],
                },
                value: { type: "string" },
              },
            },
          },
        },
      },
    },
    multiselectOptions: { type: "array", items: labelledOption },
    multiselectDefaultOptions: stringList,
  },
} as const;

const policyStatement = {
  type: "object",
  additionalProperties: false,
  properties: {
    effect: { enum: ["allow", "deny"] },
    resources: stringList,
    notResources: stringList,
    actions: stringList,
    notActions: stringList,
  },
} as const;

const auditLogEventsHook = {
  type: "object",
  additionalProperties: false,
  properties: {
    endpoint,
    templates: {
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(TEMPLATE_KEYS.map((key) => [key, { type: "string", minLength: 1 }])),
    },
    defaultPolicy: { type: "array", minItems: 1, items: policyStatement },
    includeErrorResponseBody: { type: "boolean" },
    deliveryMethod: { enum: ["custom"] },
    useStandardWebhookPayload: { type: "boolean" },
  },
} as const;

export const MANIFEST_SCHEMA = {
  $id: "https://hookwire.dev/schemas/integration-manifest.json",
  type: "object",
  required: ["name", "capabilities"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 100 },
    version: { type: "string" },
    overview: { type: "string" },
    description: { type: "string" },
    details: { type: "string" },
    author: { type: "string" },
    supportEmail: { type: "string" },
    links: { type: "object", additionalProperties: { type: "string" } },
    categories: stringList,
    icons: { type: "object", additionalProperties: { type: "string" } },
    legacy: { type: "object" },
    otherCapabilities: stringList,
    requiresOAuth: { type: "boolean" },
    hideOnIntegrationsPage: { type: "boolean" },
    oauthIntegrationKey: { type: "string" },
    allowIntegrationConfigurations: { type: "boolean" },
    formVariables: { type: "array", items: formVariable },
    capabilities: { type: "object", properties: { auditLogEventsHook } },
  },
} as const;

/** Top-level fields the framework defines; hookwire reads few of them but none is unexpected. */
export const KNOWN_MANIFEST_FIELDS: ReadonlySet<string> = new Set(Object.keys(MANIFEST_SCHEMA.properties));

let validator: ValidateFunction | undefined;

/** The compiled schema, built on first use (compiling costs some milliseconds). */
export function manifestValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(MANIFEST_SCHEMA);
  return validator;
}

/** An ajv error as a pointer to the offending value and a sentence about it. */
export function describeSchemaError(error: ErrorObject): { pointer: string; message: string } {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { pointer: `${at}/${String(params.missingProperty)}`, message: "is required" };
    case "additionalProperties":
      return {
        pointer: `${at}/${String(params.additionalProperty)}`,
        message: `is not a field the framework defines here`,
      };
    case "enum":
      return {
        pointer: at || "/",
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    default:
      return { pointer: at || "/", message: error.message ?? "is not valid" };
  }
}
