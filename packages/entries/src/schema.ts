import { MAX_KIND_LENGTH } from "./entry-fields";
import { MAX_ENTRY_ID_LENGTH } from "./entry-id";
import { MAX_TIMESTAMP_MS } from "./timestamp";

/**
 * JSON Schema of ONE posted entry, for route validation and the OpenAPI document. It is written
 * in the subset JSON Schema draft-07 and OpenAPI 3.0 share (with OpenAPI's `nullable`, which Ajv 8
 * knows), and it is deliberately looser than normaliseEntry: anything normaliseEntry accepts, this
 * accepts (a test holds it to that), so the precise problems, with JSON pointers, come from
 * normaliseBody. Extra fields are allowed everywhere: templates may use them.
 */

const nullableString = (description: string) => ({ type: "string", nullable: true, description }) as const;

const tags = (description: string) =>
  ({ type: "array", nullable: true, items: { type: "string" }, description }) as const;

const richText = (description: string) =>
  ({
    description,
    anyOf: [
      { type: "string", nullable: true, description: "Markdown; plain text and HTML are rendered from it." },
      {
        type: "object",
        additionalProperties: true,
        properties: {
          plainText: nullableString("Plain text."),
          markdown: nullableString("Markdown; missing forms are rendered from it."),
          html: nullableString("HTML."),
        },
      },
    ],
  }) as const;

const scope = (what: string, extra: Record<string, unknown> = {}) =>
  ({
    type: "object",
    nullable: true,
    additionalProperties: true,
    required: ["key"],
    description: `The ${what} the change happened in.`,
    properties: {
      key: { type: "string", description: `The ${what} key; "" when there is none.` },
      name: nullableString(`The ${what} name.`),
      tags: tags(`The ${what}'s tags; null means none.`),
      ...extra,
    },
  }) as const;

export const entrySchema = {
  type: "object",
  title: "Entry",
  description:
    "One audit log entry, in either shape. Shape 1, the template context of LaunchDarkly's integration framework, " +
    "has `timestamp`. Shape 2, LaunchDarkly's REST audit-log entry (GET /api/v2/auditlog/{id}), has `date` in epoch " +
    "milliseconds and no `timestamp`; it is converted to shape 1 (timestamp, title and details in three forms, " +
    "project, environment, key and tags read from `target.resources`, verbKind from the first access). " +
    "Every field not listed is kept for templates. Keys `__proto__`, `constructor` and `prototype` are dropped.",
  additionalProperties: true,
  required: ["kind"],
  anyOf: [
    // The empty property schemas satisfy Ajv's strictRequired; the real ones are below.
    { title: "Template context (shape 1)", required: ["timestamp"], properties: { timestamp: {} } },
    { title: "REST audit-log entry (shape 2)", required: ["date"], properties: { date: {} } },
  ],
  properties: {
    _id: {
      type: "string",
      nullable: true,
      pattern: `^[A-Za-z0-9._~-]{1,${MAX_ENTRY_ID_LENGTH}}$`,
      description:
        "Entry id: posting the same id twice (within the idempotency window) delivers it once. " +
        "When left out, one is generated and the entry cannot be deduplicated.",
    },
    kind: {
      type: "string",
      minLength: 1,
      maxLength: MAX_KIND_LENGTH,
      description: 'The kind of resource changed: "flag", "project", "environment", "member", "segment"…',
    },
    timestamp: {
      description:
        "Shape 1: when the change happened. Only `milliseconds` is required; missing forms are filled. " +
        "Bare epoch milliseconds will do too.",
      anyOf: [
        {
          type: "object",
          additionalProperties: true,
          required: ["milliseconds"],
          properties: {
            milliseconds: {
              type: "integer",
              minimum: 0,
              maximum: MAX_TIMESTAMP_MS,
              description: "Epoch milliseconds.",
            },
            seconds: { type: "number", description: "Epoch seconds." },
            rfc3339: { type: "string", description: "UTC, no fraction: 2020-02-04T00:48:39Z." },
            simple: { type: "string", description: "UTC, 24-hour: 2020-02-04 00:48:39." },
          },
        },
        { type: "integer", minimum: 0, maximum: MAX_TIMESTAMP_MS },
      ],
    },
    // No `type`: in shape 1 a `date` is just another field, kept as posted.
    date: {
      description: "Shape 2 (number): when the change happened, in epoch milliseconds, from 1970 to 9999.",
    },
    verbKind: nullableString(
      'Shape 1: the action, e.g. "updateOn". Shape 2 takes the first access\'s action.',
    ),
    key: nullableString("The key of the resource changed."),
    name: nullableString("The name of the resource changed."),
    titleVerb: nullableString('What was done, e.g. "turned on the flag".'),
    comment: nullableString("The comment the member left with the change."),
    title: richText("Who did what: `{plainText, markdown, html}`, or Markdown (shape 2)."),
    details: richText("What changed, in detail: `{plainText, markdown, html}`, or Markdown."),
    description: nullableString("Shape 2: what changed, in Markdown; becomes `details`."),
    shortDescription: nullableString("Shape 2: a one-line summary."),
    project: scope("project", { environment: scope("environment") }),
    member: {
      type: "object",
      nullable: true,
      additionalProperties: true,
      description: "Who made the change: `_id`, `email`, `firstName`, `lastName`, `displayName`…",
    },
    tags: tags("The tags of the resource changed; null means none."),
    accesses: {
      type: "array",
      nullable: true,
      minItems: 1,
      description: "What the change touched, for hook policies; derived from the other fields when absent.",
      items: {
        type: "object",
        additionalProperties: true,
        required: ["action", "resource"],
        properties: {
          action: { type: "string", minLength: 1, description: 'e.g. "updateOn".' },
          resource: {
            type: "string",
            minLength: 1,
            description: 'A resource specifier, e.g. "proj/default:env/production:flag/demo-flag".',
          },
        },
      },
    },
    target: {
      type: "object",
      nullable: true,
      additionalProperties: true,
      description:
        "The resource changed (`name`, `_links`…); in shape 2 `resources` gives project, environment, key and tags.",
      properties: {
        resources: tags(
          'Resource specifiers, e.g. "proj/default:env/production;critical:flag/demo-flag;ops".',
        ),
      },
    },
  },
} as const;
