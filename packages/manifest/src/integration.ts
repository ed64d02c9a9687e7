import type { CompiledTemplate } from "@hookwire/templates";
import type { ManifestProblem } from "./errors";

/**
 * Words (ARCHITECTURE.md): an *integration* is a folder `<key>/manifest.json` + templates,
 * written for LaunchDarkly's integration framework; the *catalog* is a set of them. A *hook* is
 * one configured instance of an integration, and its settings are *form values*: one per form
 * variable the manifest declares. An *entry* is one audit log entry to deliver.
 */

/** The templates an `auditLogEventsHook` may name, by entry kind plus `default` and `validation`. */
export type TemplateKey = "flag" | "project" | "environment" | "member" | "default" | "validation";

export const TEMPLATE_KEYS: readonly TemplateKey[] = [
  "flag",
  "project",
  "environment",
  "member",
  "default",
  "validation",
];

/** The framework's form variable types. */
export type FormVariableType =
  | "string"
  | "boolean"
  | "uri"
  | "enum"
  | "oauth"
  | "dynamicEnum"
  | "generated"
  | "environmentSelector"
  | "multiselect"
  | "publicKey";

export const FORM_VARIABLE_TYPES: readonly FormVariableType[] = [
  "string",
  "boolean",
  "uri",
  "enum",
  "oauth",
  "dynamicEnum",
  "generated",
  "environmentSelector",
  "multiselect",
  "publicKey",
];

export interface FormVariable {
  key: string;
  name: string;
  type: FormVariableType;
  description?: string;
  isSecret?: boolean;
  isOptional?: boolean;
  isHidden?: boolean;
  defaultValue?: string | boolean;
  allowedValues?: string[];
  placeholder?: string;
}

export interface EndpointHeader {
  name: string;
  value: string;
}

export interface Endpoint {
  url: string;
  method: string;
  headers: EndpointHeader[];
  hmacSignature?: { headerName: string; hmacSecretFormVariableKey: string };
}

/** The endpoint's URL and header templates, compiled when the integration loads. */
export interface EndpointTemplates {
  url: CompiledTemplate;
  headers: { name: string; value: CompiledTemplate }[];
  /**
   * What they read: the entry (`context`), a secret form variable (then the rendered request is
   * as secret as it, and is never logged or queued) and `oauth` (the hook's token and base URI).
   */
  reads: { entry: boolean; secrets: boolean; oauth: boolean };
}

export interface Integration {
  /** The folder's name. */
  key: string;
  name: string;
  /** The integration's folder. */
  dir: string;
  /** The manifest as read, for anything hookwire does not model. */
  manifest: Record<string, unknown>;
  formVariables: FormVariable[];
  /** Keys of the form variables marked isSecret: never logged, never queued. */
  secretKeys: ReadonlySet<string>;
  endpoint: Endpoint;
  /** The endpoint's templates, compiled once. */
  request: EndpointTemplates;
  templates: Partial<Record<TemplateKey, CompiledTemplate>>;
  useStandardWebhookPayload: boolean;
  includeErrorResponseBody: boolean;
  /**
   * The URL's host is written in the manifest or comes only from an enum form variable: the
   * framework's condition for keeping error response bodies, so that nobody reads an internal
   * service's answers through a hook whose URL they chose.
   */
  urlHostIsFixed: boolean;
  /** Policy statements used when a hook gives none. */
  defaultPolicy: unknown[];
  requiresOAuth: boolean;
  /** False for `deliveryMethod: custom`: the framework delivers those with code hookwire does not have. */
  deliverable: boolean;
  /** What loading noticed without refusing the integration. */
  notices: ManifestProblem[];
}

/** A hook's settings, checked against the integration's form variables. */
export type FormValues = Record<string, string | boolean>;
