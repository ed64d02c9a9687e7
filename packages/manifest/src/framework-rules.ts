/**
 * What LaunchDarkly's review of an integration (the framework's schema and its CI tests) rejects
 * beyond what hookwire needs to run it: `hookwire validate --framework`. hookwire's own schema
 * (schema.ts) is lenient about the descriptive fields, since a hook works without an icon; an
 * author who means to submit the integration upstream wants to hear about them before review.
 *
 * Written here from the framework's documented rules, not loaded from its schema: the schema in
 * `../shared` is test data (framework-rules.test.ts checks that both reject the same manifests).
 * The rules:
 * - the descriptive fields are required (name, version, overview, description, author,
 *   supportEmail, links, categories, icons), with the framework's lengths and forms: a semantic
 *   `version`, an email `supportEmail`, http(s) links with `site` and `privacyPolicy`, one to three
 *   known categories, `.svg` square and horizontal icons;
 * - no field, capability, form-variable field or template kind the framework does not define;
 * - every form variable has a `description` (at most 250 characters), a key of at most 20, a name
 *   of at most 50;
 * - and, from its CI tests: the overview ends with a period; the icons exist beside the manifest.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import type { ManifestProblem } from "./errors";
import { FORM_VARIABLE_TYPES } from "./integration";
import { describeSchemaError } from "./schema";

const CATEGORIES = [
  "ai",
  "analytics",
  "approval",
  "authentication",
  "automation",
  "big-segment-store",
  "code-references",
  "customer-support",
  "data",
  "developer-tools",
  "import",
  "infrastructure",
  "issue-tracking",
  "log-management",
  "messaging",
  "migration",
  "monitoring",
  "synced-segments",
  "notifications",
];

const CAPABILITIES = [
  "auditLogEventsHook",
  "buttonAction",
  "reservedCustomProperties",
  "trigger",
  "approval",
  "featureStore",
  "flagLink",
  "hideConfiguration",
  "externalConfigurationURL",
  "externalConfigurationPages",
  "syncedSegment",
  "bigSegmentStore",
  "flagImport",
  "eventsHook",
  "flagCleanup",
  "internalConfigurationURL",
];

const OTHER_CAPABILITIES = [
  "codeRefs",
  "dataExport",
  "external",
  "ide",
  "sso",
  "webhooks",
  "warehouseExperimentation",
  "warehouseExport",
];

const FORM_VARIABLE_FIELDS = [
  "key",
  "name",
  "type",
  "description",
  "placeholder",
  "isSecret",
  "isHidden",
  "isOptional",
  "defaultValue",
  "allowedValues",
  "dynamicOptions",
  "dependsOn",
  "multiselectOptions",
  "multiselectDefaultOptions",
  "disableAfterSaving",
  "hideEmpty",
];

/** One line of text, `min` to `max` characters. */
const line = (min: number, max: number) => ({
  type: "string",
  minLength: min,
  maxLength: max,
  pattern: "^.*$",
});
const link = { type: "string", maxLength: 2048, pattern: "^[Hh][Tt][Tt][Pp][Ss]?://" };
const svg = { type: "string", pattern: "\\.svg$" };

const FRAMEWORK_SCHEMA = {
  type: "object",
  required: [
    "name",
    "version",
    "overview",
    "description",
    "author",
    "supportEmail",
    "links",
    "categories",
    "icons",
  ],
  propertyNames: {
    enum: [
      "name",
      "version",
      "overview",
      "description",
      "details",
      "author",
      "supportEmail",
      "links",
      "categories",
      "icons",
      "legacy",
      "otherCapabilities",
      "requiresOAuth",
      "hideOnIntegrationsPage",
      "formVariables",
      "capabilities",
      "oauthIntegrationKey",
      "allowIntegrationConfigurations",
    ],
  },
  properties: {
    name: { type: "string", minLength: 3, maxLength: 100 },
    // Semantic versioning: MAJOR.MINOR.PATCH, numbers without leading zeros, an optional pre-release.
    version: {
      type: "string",
      minLength: 5,
      maxLength: 14,
      pattern: "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$",
    },
    overview: line(10, 100),
    description: line(50, 2048),
    details: line(50, 2048),
    author: line(3, 100),
    supportEmail: { type: "string", pattern: "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$" },
    links: {
      type: "object",
      required: ["site", "privacyPolicy"],
      propertyNames: { enum: ["site", "launchdarklyDocs", "privacyPolicy", "supportWebsite"] },
      additionalProperties: link,
    },
    categories: {
      type: "array",
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      items: { enum: CATEGORIES },
    },
    icons: {
      type: "object",
      required: ["square", "horizontal"],
      propertyNames: { enum: ["square", "horizontal"] },
      additionalProperties: svg,
    },
    otherCapabilities: { type: "array", minItems: 1, items: { enum: OTHER_CAPABILITIES } },
    oauthIntegrationKey: { type: "string", minLength: 3, maxLength: 100 },
    formVariables: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "name", "type", "description"],
        propertyNames: { enum: FORM_VARIABLE_FIELDS },
        properties: {
          key: { type: "string", maxLength: 20, pattern: "^\\S*$" },
          name: { type: "string", maxLength: 50 },
          // The framework's types, which hookwire knows all of.
          type: { enum: FORM_VARIABLE_TYPES },
          description: { type: "string", maxLength: 250 },
        },
      },
    },
    capabilities: {
      type: "object",
      propertyNames: { enum: CAPABILITIES },
      properties: {
        auditLogEventsHook: {
          type: "object",
          propertyNames: {
            enum: [
              "endpoint",
              "templates",
              "defaultPolicy",
              "includeErrorResponseBody",
              "deliveryMethod",
              "useStandardWebhookPayload",
            ],
          },
          properties: {
            templates: {
              type: "object",
              propertyNames: { enum: ["flag", "project", "environment", "default", "validation", "member"] },
            },
          },
        },
      },
    },
  },
} as const;

let validator: ValidateFunction | undefined;

function frameworkValidator(): ValidateFunction {
  // strictRequired off: links and icons require names their additionalProperties describe.
  validator ??= new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  }).compile(FRAMEWORK_SCHEMA);
  return validator;
}

/**
 * What the framework's review would reject in a manifest (parsed from `file`), each with the
 * file and the JSON pointer. Empty when it would pass.
 */
export function checkFrameworkRules(manifest: unknown, file: string): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const validate = frameworkValidator();
  if (!validate(manifest)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      // propertyNames reports the name twice (the name's enum, then propertyNames itself).
      if (error.keyword === "propertyNames") continue;
      const described =
        error.propertyName !== undefined
          ? {
              pointer: `${error.instancePath}/${error.propertyName}`,
              message: "is not a field the framework defines here",
            }
          : describeSchemaError(error);
      const key = `${described.pointer} ${described.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ file, code: "MANIFEST_ERR_FRAMEWORK", ...described });
    }
  }
  const fields = (typeof manifest === "object" && manifest !== null ? manifest : {}) as Record<
    string,
    unknown
  >;
  if (typeof fields.overview === "string" && !fields.overview.endsWith(".")) {
    problems.push({
      file,
      code: "MANIFEST_ERR_FRAMEWORK",
      pointer: "/overview",
      message: "must end with a period (the framework's CI checks it)",
    });
  }
  const icons = fields.icons;
  if (typeof icons === "object" && icons !== null) {
    for (const [name, path] of Object.entries(icons as Record<string, unknown>)) {
      if (typeof path === "string" && !existsSync(join(dirname(file), path))) {
        problems.push({
          file,
          code: "MANIFEST_ERR_FRAMEWORK",
          pointer: `/icons/${name}`,
          message: `names ${path}, which is not there beside the manifest`,
        });
      }
    }
  }
  return problems;
}
