import { OAUTH_SECRET_FIELDS } from "@hookwire/delivery";
import { renderRequest } from "@hookwire/manifest";
import {
  type HealthView,
  type Hook,
  type HookDeliverySettings,
  type HookInput,
  healthView,
  hookSecretKeys,
  oauthTokensDigest,
  REDACTED,
  readHookHealth,
  redactedValue,
  redactHook,
  type SecretRotation,
  StoreError,
} from "@hookwire/store";
import type { FastifyPluginAsync } from "fastify";
import { ApiError, type Problem } from "../errors";
import { checkHook, type HookDraft } from "../hook-input";
import { emitEvent } from "../operational-events";
import { errorResponses, hookBodySchema, hookPatchSchema, hookSchema } from "../schemas";
import { laneOf, type Services, withRedis } from "../services";
import { replayFailed } from "./replay";
import { testHook } from "./test-hook";

export const idParams = {
  type: "object",
  properties: { id: { type: "string" } },
  required: ["id"],
} as const;

export function hookRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: HookDraft }>(
      "/v1/hooks",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Create a hook: an integration with its settings",
          security: [{ bearer: [] }],
          body: hookBodySchema,
          response: { 201: hookSchema, 409: { $ref: "Error#" }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { hook: checked, problems } = checkHook(request.body, services.catalog);
        if (checked === undefined)
          throw new ApiError("API_ERR_BAD_REQUEST", "the hook is invalid", { problems });
        await refuseBlockedHosts(services, checked.input);
        const hook = await withRedis(services, () =>
          services.hooks.create(checked.input, checked.secretKeys),
        ).catch(storeToApi);
        request.log.info({ hookId: hook.id, integration: hook.integration }, "hook created");
        return reply.status(201).send({
          ...redactHook(hook),
          ...(checked.warnings.length > 0 ? { warnings: checked.warnings } : {}),
        });
      },
    );

    app.get<{ Querystring: { limit?: number; cursor?: string } }>(
      "/v1/hooks",
      {
        config: { scope: "read" },
        schema: {
          tags: ["hooks"],
          summary: "List hooks, oldest first, secrets redacted, with their health",
          description: "Every hook, or with `limit` a page of them and `nextCursor` while more follow.",
          security: [{ bearer: [] }],
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              limit: { type: "integer", minimum: 1, maximum: 500 },
              cursor: { type: "string", description: "nextCursor of the previous page." },
            },
          },
          response: {
            200: {
              type: "object",
              properties: { hooks: { type: "array", items: hookSchema }, nextCursor: { type: "string" } },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const all = await withRedis(services, () => services.hooks.list());
        const { limit, cursor } = request.query;
        // Oldest first (the store's order); a cursor names the last hook of the page before.
        const after = cursor === undefined ? undefined : decodeHookCursor(cursor);
        if (cursor !== undefined && after === undefined) {
          throw new ApiError("API_ERR_BAD_REQUEST", "cursor is not a nextCursor of GET /v1/hooks", {
            problems: [{ pointer: "/cursor", message: "not a nextCursor of GET /v1/hooks" }],
          });
        }
        const from = after === undefined ? 0 : all.findIndex((hook) => afterCursor(hook, after));
        const rest = from === -1 ? [] : all.slice(from);
        const hooks = limit === undefined ? rest : rest.slice(0, limit);
        const health = await withRedis(services, () =>
          readHealth(
            services,
            hooks.map((h) => h.id),
          ),
        );
        const page = { hooks: hooks.map((hook, i) => ({ ...redactHook(hook), health: health[i] })) };
        const last = hooks.at(-1);
        return last !== undefined && hooks.length < rest.length
          ? { ...page, nextCursor: Buffer.from(`${last.createdAt}|${last.id}`).toString("base64url") }
          : page;
      },
    );

    app.get<{ Params: { id: string } }>(
      "/v1/hooks/:id",
      {
        config: { scope: "read" },
        schema: {
          tags: ["hooks"],
          summary: "One hook, secrets redacted, with its health",
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: hookSchema, ...errorResponses },
        },
      },
      async (request) => {
        const hook = await findHook(services, request.params.id);
        const [health] = await withRedis(services, () => readHealth(services, [hook.id]));
        return { ...redactHook(hook), health };
      },
    );

    app.patch<{ Params: { id: string }; Body: Partial<HookDraft> & { rotateSecret?: RotateSecret } }>(
      "/v1/hooks/:id",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Change a hook; form variables are merged, ******** keeps a secret as it is",
          security: [{ bearer: [] }],
          params: idParams,
          body: hookPatchSchema,
          response: { 200: hookSchema, ...errorResponses },
        },
      },
      async (request) => {
        const current = await findHook(services, request.params.id);
        const draft = mergeDraft(current, request.body);
        const rotation = rotationOf(services, current, request.body, draft);
        const { hook: checked, problems } = checkHook(draft, services.catalog);
        if (checked === undefined)
          throw new ApiError("API_ERR_BAD_REQUEST", "the hook is invalid", { problems });
        await refuseBlockedHosts(services, checked.input);
        const turnedOn = request.body.on === true;
        // As stored when the change is written (the compare-and-set's last round), not as cached.
        let disabled: Hook["disabled"];
        const hook = await withRedis(services, () =>
          services.hooks.update(current.id, (stored) => {
            const { disabled: wasDisabled, ...rest } = stored;
            disabled = wasDisabled;
            return {
              ...(turnedOn ? rest : stored),
              name: checked.input.name,
              on: checked.input.on ?? stored.on,
              formVariables: checked.input.formVariables,
              secretKeys: hookSecretKeys(checked.input.formVariables, checked.secretKeys),
              ...(checked.input.policy ? { policy: checked.input.policy } : { policy: undefined }),
              delivery: checked.input.delivery ?? {},
              ...patchedOAuth(request.body.oauth, checked.input.oauth ?? undefined, stored),
              secretRotation:
                rotation === undefined ? keptRotation(stored, checked.input.formVariables) : rotation,
            };
          }),
        ).catch(storeToApi);
        request.log.info(
          { hookId: hook.id, ...(rotation ? { secretRotatedUntil: rotation.until } : {}) },
          "hook changed",
        );
        if (turnedOn && disabled !== undefined) {
          // The hook hookwire had turned off is on again: the operators' channel hears of it.
          await emitEvent(services.redis, services.partitions, {
            action: "hookRecovered",
            hookId: hook.id,
            at: Date.now(),
            detail: `turned on again; it had been turned off at ${disabled.at}: ${disabled.reason}`,
          }).catch((error: unknown) =>
            request.log.warn({ err: error, hookId: hook.id }, "could not record the hook's recovery"),
          );
        }
        return {
          ...redactHook(hook),
          ...(checked.warnings.length > 0 ? { warnings: checked.warnings } : {}),
        };
      },
    );

    app.delete<{ Params: { id: string } }>(
      "/v1/hooks/:id",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Delete a hook",
          security: [{ bearer: [] }],
          params: idParams,
          response: { 204: { type: "null" }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const removed = await withRedis(services, () => services.hooks.delete(request.params.id));
        if (!removed) throw new ApiError("API_ERR_NOT_FOUND", `no hook with id ${request.params.id}`);
        // An ordered hook's sequence, held or not, is settled by the workers ("the hook was deleted").
        const lane = laneOf(services, request.params.id);
        await withRedis(services, () =>
          lane.writer.outbox.sequences.letGo(services.redis, request.params.id),
        );
        await withRedis(services, () => lane.log.forgetHook(request.params.id));
        request.log.info({ hookId: request.params.id }, "hook deleted");
        return reply.status(204).send();
      },
    );

    app.post<{ Params: { id: string } }>(
      "/v1/hooks/:id/test",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Send the integration's validation template to the hook now",
          description:
            "Answers with the receiver's status, the time it took and, where the integration allows it, the body.",
          security: [{ bearer: [] }],
          params: idParams,
          response: {
            200: {
              type: "object",
              properties: {
                ok: { type: "boolean" },
                statusCode: { type: "integer" },
                durationMs: { type: "number" },
                body: { type: "string" },
                errorCode: { type: "string" },
                errorMessage: { type: "string" },
                template: { type: "string" },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => testHook(services, await findHook(services, request.params.id)),
    );

    app.post<{ Params: { id: string }; Body: { since?: string; dryRun?: boolean } }>(
      "/v1/hooks/:id/replay",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Queue the hook's failed deliveries again",
          security: [{ bearer: [] }],
          params: idParams,
          body: {
            type: "object",
            additionalProperties: false,
            properties: {
              since: {
                type: "string",
                format: "date-time",
                description: "Only deliveries accepted at or after this time.",
              },
              dryRun: {
                type: "boolean",
                default: false,
                description: "Count what would be replayed; queue nothing.",
              },
            },
          },
          response: {
            202: {
              type: "object",
              properties: {
                dryRun: { type: "boolean" },
                count: { type: "integer" },
                deliveryIds: { type: "array", items: { type: "string" } },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const hook = await findHook(services, request.params.id);
        const since = request.body?.since === undefined ? 0 : Date.parse(request.body.since);
        const result = await withRedis(services, () =>
          replayFailed(services, hook.id, since, request.body?.dryRun ?? false),
        );
        return reply.status(202).send(result);
      },
    );
  };
}

export async function findHook(services: Services, id: string): Promise<Hook> {
  const hook = await withRedis(services, () => services.hooks.get(id));
  if (hook === undefined) throw new ApiError("API_ERR_NOT_FOUND", `no hook with id ${id}`);
  return hook;
}

/**
 * Refuses a hook whose URL (or OAuth token URL) can only reach addresses the guard refuses: a
 * literal private or metadata address, or a name that resolves only to such (400 naming the form
 * variable that holds the host). The guard still judges every connection at send time, which is
 * what stops a name that changes its answer later (DNS rebinding).
 */
async function refuseBlockedHosts(services: Services, input: HookInput): Promise<void> {
  const integration = services.catalog.get(input.integration);
  if (integration === undefined) return;
  const targets: { url: string; pointer?: string }[] = [];
  try {
    const oauth = input.oauth ? { baseURI: input.oauth.baseURI, accessToken: "" } : null;
    targets.push({ url: renderRequest(integration, input.formVariables, {}, oauth).url });
  } catch {
    // A URL that reads the entry renders at send time only: the guard judges it there.
  }
  if (input.oauth?.tokenUrl !== undefined)
    targets.push({ url: input.oauth.tokenUrl, pointer: "/oauth/tokenUrl" });
  const problems: Problem[] = [];
  for (const target of targets) {
    const reason = await services.sender.refusedHost(target.url);
    if (reason === undefined) continue;
    let host = "";
    try {
      host = new URL(target.url).hostname;
    } catch {
      // refusedHost parsed it; unreachable.
    }
    const holder = Object.entries(input.formVariables).find(
      ([, v]) => typeof v === "string" && v.includes(host),
    );
    const pointer =
      target.pointer ??
      (holder !== undefined
        ? `/formVariables/${holder[0]}`
        : input.oauth?.baseURI.includes(host)
          ? "/oauth/baseURI"
          : "/formVariables");
    problems.push({ pointer, message: `hookwire would never send there: ${reason}` });
  }
  if (problems.length > 0) throw new ApiError("API_ERR_BAD_REQUEST", "the hook is invalid", { problems });
}

/** A value sent back as answers show `stored`: `********`, or a URL with its password masked. */
function isRedacted(value: unknown, stored: string | boolean): boolean {
  return value === REDACTED || value === redactedValue(stored);
}

interface RotateSecret {
  secret: string;
  overlapSeconds?: number;
}

/**
 * PATCH `rotateSecret`: the new signing secret goes into the draft, and the rotation to keep is
 * answered (none when the hook had no secret yet: there is nothing to overlap with). Refused for
 * an integration that signs nothing, or beside a change of the same form variable.
 */
function rotationOf(
  services: Services,
  current: Hook,
  patch: { rotateSecret?: RotateSecret; formVariables?: Record<string, unknown> },
  draft: HookDraft,
): SecretRotation | undefined {
  const rotate = patch.rotateSecret;
  if (rotate === undefined) return undefined;
  const key = services.catalog.get(current.integration)?.endpoint.hmacSignature?.hmacSecretFormVariableKey;
  if (key === undefined) {
    throw new ApiError("API_ERR_BAD_REQUEST", "the hook is invalid", {
      problems: [
        {
          pointer: "/rotateSecret",
          message: `integration ${current.integration} signs no request: it has no secret to rotate`,
        },
      ],
    });
  }
  if (patch.formVariables?.[key] !== undefined) {
    throw new ApiError("API_ERR_BAD_REQUEST", "the hook is invalid", {
      problems: [
        {
          pointer: `/formVariables/${key}`,
          message: "the signing secret is being rotated (rotateSecret): set the new one there, not here too",
        },
      ],
    });
  }
  draft.formVariables = { ...draft.formVariables, [key]: rotate.secret };
  const previous = current.formVariables[key];
  if (typeof previous !== "string" || previous === "" || previous === rotate.secret) return undefined;
  const now = Date.now();
  return {
    key,
    previous,
    rotatedAt: new Date(now).toISOString(),
    until: new Date(now + (rotate.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000).toISOString(),
  };
}

/** A rotation's overlap lasts a day unless the PATCH says otherwise. */
const DEFAULT_OVERLAP_SECONDS = 86_400;

/** The rotation a hook keeps through a change: none once its overlap is over, or its secret replaced outright. */
function keptRotation(stored: Hook, formVariables: Record<string, unknown>): SecretRotation | undefined {
  const rotation = stored.secretRotation;
  if (rotation === undefined || Date.parse(rotation.until) <= Date.now()) return undefined;
  return formVariables[rotation.key] === stored.formVariables[rotation.key] ? rotation : undefined;
}

/** The hook as it would be after the patch; redacted secrets sent back keep their value. */
function mergeDraft(current: Hook, patch: Partial<HookDraft>): HookDraft {
  const formVariables: Record<string, unknown> = { ...current.formVariables };
  for (const [key, value] of Object.entries(patch.formVariables ?? {})) {
    if (value === null) delete formVariables[key];
    else if (!(current.secretKeys.includes(key) && isRedacted(value, current.formVariables[key] ?? "")))
      formVariables[key] = value;
  }
  return {
    integration: current.integration,
    name: patch.name ?? current.name,
    on: patch.on ?? current.on,
    formVariables,
    policy: patch.policy === undefined ? (current.policy ?? null) : patch.policy,
    delivery: patch.delivery === undefined ? current.delivery : keepTlsKey(patch.delivery, current.delivery),
    oauth: patch.oauth === undefined ? current.oauth : keepSecrets(patch.oauth, current.oauth),
  };
}

/** New delivery settings in which a TLS key sent back as ******** keeps the key the hook has now. */
function keepTlsKey(next: HookDeliverySettings, current: HookDeliverySettings): HookDeliverySettings {
  if (next.tls?.key !== REDACTED) return next;
  const { key: _shown, ...tls } = next.tls;
  return { ...next, tls: current.tls?.key === undefined ? tls : { ...tls, key: current.tls.key } };
}

/**
 * The OAuth settings a PATCH leaves, decided on the hook as it is when the change is written, not
 * as it was read before: a refresh may have rotated its tokens meanwhile. No `oauth` in the patch
 * keeps the stored settings whole; each ******** keeps the stored secret, and tokens sent back so
 * keep their expiry too. Only tokens given anew count as given (see the store's replacedOAuth).
 */
export function patchedOAuth(
  patch: unknown,
  checked: Hook["oauth"],
  stored: Hook,
): Pick<Hook, "oauth" | "oauthGiven"> {
  if (patch === undefined) return { oauth: stored.oauth, oauthGiven: stored.oauthGiven };
  if (checked === undefined) return { oauth: undefined, oauthGiven: undefined };
  const sent = (patch ?? {}) as Record<string, unknown>;
  const kept = (stored.oauth ?? {}) as Record<string, unknown>;
  const oauth: Record<string, unknown> = { ...checked };
  const keep = (field: string) => {
    if (kept[field] === undefined) delete oauth[field];
    else oauth[field] = kept[field];
  };
  for (const field of OAUTH_SECRET_FIELDS) if (sent[field] === REDACTED) keep(field);
  const tokens = ["accessToken", "refreshToken"];
  const newTokens = tokens.some((field) => sent[field] !== undefined && sent[field] !== REDACTED);
  if (!newTokens && tokens.some((field) => sent[field] === REDACTED)) keep("expiresAt");
  const settled = oauth as NonNullable<Hook["oauth"]>;
  return { oauth: settled, oauthGiven: newTokens ? oauthTokensDigest(settled) : stored.oauthGiven };
}

/** New OAuth settings in which each ******** keeps the secret the hook has now. */
function keepSecrets(next: unknown, current: Hook["oauth"]): unknown {
  if (typeof next !== "object" || next === null || current === undefined) return next;
  const merged: Record<string, unknown> = { ...(next as Record<string, unknown>) };
  const kept = current as Record<string, unknown>;
  for (const field of OAUTH_SECRET_FIELDS) if (merged[field] === REDACTED) merged[field] = kept[field];
  return merged;
}

/** Where a page of hooks ended: the last one's creation time and id; undefined for a cursor not ours. */
function decodeHookCursor(cursor: string): { createdAt: string; id: string } | undefined {
  const [createdAt, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  return createdAt && id ? { createdAt, id } : undefined;
}

/** Whether `hook` comes after the cursor's hook in the list's order (creation time, then id). */
function afterCursor(hook: Hook, after: { createdAt: string; id: string }): boolean {
  return hook.createdAt > after.createdAt || (hook.createdAt === after.createdAt && hook.id > after.id);
}

async function readHealth(services: Services, ids: readonly string[]): Promise<HealthView[]> {
  if (ids.length === 0) return [];
  const answers = await readHookHealth(services.redis, services.partitions, ids);
  return answers.map((value) => healthView(value));
}

function storeToApi(error: unknown): never {
  if (error instanceof StoreError) {
    if (error.code === "STORE_ERR_CONFLICT") throw new ApiError("API_ERR_CONFLICT", error.message);
    if (error.code === "STORE_ERR_NOT_FOUND") throw new ApiError("API_ERR_NOT_FOUND", error.message);
    if (error.code === "STORE_ERR_BAD_ID")
      throw new ApiError("API_ERR_BAD_REQUEST", error.message, {
        problems: [{ pointer: "/id", message: error.message }],
      });
  }
  throw error;
}

export { readHealth };
