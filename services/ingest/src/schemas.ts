/**
 * JSON schemas of the API's bodies and answers: Fastify validates requests with them and the
 * OpenAPI document at /docs is generated from them.
 */
export const problemSchema = {
  type: "object",
  properties: { pointer: { type: "string" }, message: { type: "string" } },
  required: ["pointer", "message"],
} as const;

export const errorSchema = {
  type: "object",
  description: "Every error answer has this shape.",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string", description: "Stable code to branch on, e.g. API_ERR_BAD_REQUEST." },
        message: { type: "string" },
        problems: {
          type: "array",
          items: problemSchema,
          description: "Each problem with its JSON pointer into the request.",
        },
      },
      required: ["code", "message"],
    },
  },
  required: ["error"],
} as const;

/** Redis' persistence as ingest read it (`@hookwire/queue` RedisPersistence). */
export const redisPersistenceSchema = {
  type: "object",
  description:
    "What Redis keeps on disk, from CONFIG GET; `unknown` where CONFIG is disabled (managed Redis).",
  properties: {
    appendonly: { type: "string", description: "yes, no or unknown" },
    appendfsync: { type: "string", description: "always, everysec, no or unknown" },
    save: { type: "string", description: 'RDB snapshot points ("3600 1 300 100"), "" for none, or unknown' },
    durable: {
      type: ["boolean", "null"],
      description:
        "Whether an acknowledged entry survives a Redis restart: true when the append-only file is on; null when unknown.",
    },
    lossWindow: { type: "string", description: "What a crash loses with these settings." },
  },
  required: ["appendonly", "appendfsync", "save", "durable", "lossWindow"],
} as const;

export const deliverySettingsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    timeoutMs: {
      type: "integer",
      minimum: 100,
      maximum: 120_000,
      description: "Whole-attempt timeout (default 15 s).",
    },
    retrySchedule: {
      type: "array",
      items: { type: "number", minimum: 0, maximum: 7 * 24 * 3600 },
      maxItems: 50,
      description:
        "Seconds before each retry after the first attempt (default 5, 300, 1800, 7200, 18000, 36000, 36000).",
    },
    concurrency: {
      type: "integer",
      minimum: 1,
      maximum: 1000,
      description: "Requests in flight to this hook per worker (default 10).",
    },
    ratePerSecond: {
      type: "number",
      exclusiveMinimum: 0,
      description: "Requests a second to this hook per worker.",
    },
    standardWebhooks: {
      type: "boolean",
      description:
        "Also send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks), keyed by the HMAC secret.",
    },
    ordering: {
      type: "string",
      enum: ["fifo"],
      description:
        "fifo: one delivery at a time, in the order of the entries' time (ties by id), across every worker; the next waits until the one before succeeds. Absent: deliveries in parallel.",
    },
    onExhausted: {
      type: "string",
      enum: ["hold", "skip"],
      description:
        "For an ordered hook, a delivery that runs out of attempts: hold (default) stops the hook until an operator retries or skips it; skip dead-letters it and the next follows.",
    },
    tls: {
      type: "object",
      additionalProperties: false,
      description:
        "TLS of the hook's connections, PEM: cert and key (together) for a receiver that requires a client certificate (mTLS), ca to trust a private CA. Sealed at rest; the key is shown as ********, which sent back keeps it.",
      properties: {
        cert: { type: "string", maxLength: 65_536 },
        key: { type: "string", maxLength: 65_536 },
        ca: { type: "string", maxLength: 262_144 },
      },
    },
  },
} as const;

const formVariablesSchema = {
  type: "object",
  additionalProperties: { type: ["string", "boolean", "null"] },
  description:
    "Values of the integration's formVariables. Secret ones are stored encrypted and shown as ********.",
} as const;

const policySchema = {
  type: ["array", "null"],
  items: { type: "object" },
  description:
    "Policy statements replacing the integration's defaultPolicy; null or absent uses the default.",
} as const;

const oauthSchema = {
  type: ["object", "null"],
  description:
    'How a hook of a requiresOAuth integration gets its access token: {"grant": "client_credentials", "tokenUrl", "clientId", "clientSecret", "scope"?, "clientAuth"?: "basic" | "post", "baseURI"} or {"grant": "token", "accessToken", "refreshToken"?, "expiresAt"?, "tokenUrl"?, "clientId"?, "clientSecret"?, "baseURI"}. Secrets are stored encrypted and shown as ********.',
  additionalProperties: true,
} as const;

export const hookBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "Optional; generated when absent." },
    integration: { type: "string", minLength: 1 },
    name: { type: "string", minLength: 1, maxLength: 200 },
    on: { type: "boolean", default: true },
    formVariables: formVariablesSchema,
    policy: policySchema,
    delivery: deliverySettingsSchema,
    oauth: oauthSchema,
  },
  required: ["integration", "name"],
} as const;

export const hookPatchSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    on: { type: "boolean" },
    formVariables: {
      ...formVariablesSchema,
      description: "Merged into the current values; null removes an optional one; ******** keeps a secret.",
    },
    policy: policySchema,
    delivery: deliverySettingsSchema,
    oauth: { ...oauthSchema, description: "Replaces the OAuth settings; ******** keeps a secret as it is." },
    rotateSecret: {
      type: "object",
      additionalProperties: false,
      required: ["secret"],
      description:
        "Replaces the signing secret (the integration's HMAC secret form variable) with an overlap: until overlapSeconds have passed, Standard Webhooks signatures carry the new secret's and the old one's (v1,<new> v1,<old>); X-LD-Signature uses the new one at once. The hook's secretRotation says when it happened.",
      properties: {
        secret: { type: "string", minLength: 1, maxLength: 1024 },
        overlapSeconds: { type: "integer", minimum: 0, maximum: 2_592_000, default: 86_400 },
      },
    },
  },
} as const;

export const hookSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    integration: { type: "string" },
    name: { type: "string" },
    on: { type: "boolean" },
    formVariables: { type: "object", additionalProperties: true },
    secretKeys: { type: "array", items: { type: "string" } },
    policy: { type: "array", items: { type: "object", additionalProperties: true } },
    delivery: { type: "object", additionalProperties: true },
    oauth: { type: "object", additionalProperties: true },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
    disabled: { type: "object", properties: { reason: { type: "string" }, at: { type: "string" } } },
    secretRotation: {
      type: "object",
      description:
        "The last rotation of the signing secret: which form variable, when, and until when the old one signs too.",
      properties: { key: { type: "string" }, rotatedAt: { type: "string" }, until: { type: "string" } },
    },
    revision: { type: "integer" },
    health: {
      type: "object",
      additionalProperties: true,
      description:
        "Circuit state, consecutive failures, last success and last failure with its reason; for an ordered hook stopped by a delivery that ran out of attempts, held {deliveryId, reason, since}.",
    },
    warnings: { type: "array", items: problemSchema },
  },
} as const;

export const attemptSchema = {
  type: "object",
  properties: {
    attempt: { type: "integer" },
    at: { type: "number" },
    durationMs: { type: "number" },
    statusCode: { type: "integer" },
    errorCode: { type: "string" },
    errorMessage: { type: "string" },
    errorBody: {
      type: "string",
      description: "First 4 KiB of the error answer, where the integration allows keeping it.",
    },
    outcome: { type: "string" },
  },
} as const;

export const deliverySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    hookId: { type: "string" },
    entryId: { type: "string" },
    status: { type: "string", enum: ["pending", "succeeded", "failed", "skipped"] },
    templateKey: { type: "string" },
    acceptedAt: { type: "number" },
    updatedAt: { type: "number" },
    nextAttemptAt: { type: "number" },
    reason: { type: "string" },
    attempts: { type: "array", items: attemptSchema },
  },
} as const;

export const hookResultSchema = {
  type: "object",
  properties: {
    hookId: { type: "string" },
    deliveryId: { type: "string" },
    outcome: { type: "string", enum: ["queued", "filtered", "skipped", "render_failed"] },
    reason: { type: "string" },
  },
  required: ["hookId", "outcome"],
} as const;

export const entriesAnswerSchema = {
  type: "object",
  properties: {
    entries: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          duplicate: {
            type: "boolean",
            description: "Seen within the idempotency window: nothing queued again.",
          },
          hooks: { type: "array", items: hookResultSchema },
        },
        required: ["id", "duplicate", "hooks"],
      },
    },
  },
  required: ["entries"],
} as const;

/** GET /v1/entries/:id. */
export const entryTraceSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    acceptedAt: { type: "string", format: "date-time" },
    hooks: {
      type: "array",
      description: "Every hook that was enabled when the entry was accepted.",
      items: {
        type: "object",
        properties: {
          hookId: { type: "string" },
          name: { type: "string", description: "The hook's name now; absent once it is deleted." },
          outcome: { type: "string", enum: ["queued", "filtered", "skipped", "render_failed"] },
          reason: { type: "string", description: "Why it was filtered, skipped or not rendered." },
          deliveryId: { type: "string" },
          status: {
            type: "string",
            description: "The delivery's status now; `expired` once its record's retention has passed.",
          },
        },
        required: ["hookId", "outcome"],
      },
    },
  },
  required: ["id", "acceptedAt", "hooks"],
} as const;

/** The error answers most routes can give, for their response schemas. */
export const errorResponses = {
  400: { $ref: "Error#" },
  401: { $ref: "Error#" },
  403: { $ref: "Error#" },
  404: { $ref: "Error#" },
  429: { $ref: "Error#" },
  500: { $ref: "Error#" },
  503: { $ref: "Error#" },
} as const;
