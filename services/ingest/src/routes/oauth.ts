/**
 * The authorization_code grant: an admin opens `GET /v1/hooks/:id/oauth/start` in a browser,
 * which is sent to the provider's authorize URL (with a state and a PKCE challenge kept here for
 * ten minutes); the provider sends the browser back to `GET /v1/oauth/callback`, whose state is
 * taken once, and the code is traded for tokens, kept with the hook (sealed). The callback needs
 * no API key: the browser coming back has none, and the state it carries is the proof.
 */
import { authorizationSecrets, authorizationUrl, exchangeCode, OAuthError } from "@hookwire/delivery";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../errors";
import { errorResponses } from "../schemas";
import { type Services, withRedis } from "../services";
import { findHook } from "./hooks";

/** How long an operator has to consent at the provider. */
const STATE_TTL_MS = 10 * 60_000;

export function oauthRoutes(services: Services) {
  return async (app: FastifyInstance) => {
    /** The provider's authorize URL for a hook, its state and PKCE verifier kept for the callback. */
    const start = async (request: FastifyRequest<{ Params: { id: string } }>) => {
      const hook = await findHook(services, request.params.id);
      const settings = hook.oauth;
      if (settings?.grant !== "authorization_code") {
        throw new ApiError("API_ERR_CONFLICT", `hook ${hook.id} does not use the authorization_code grant`);
      }
      const { state, codeVerifier } = authorizationSecrets();
      const redirectUri = `${publicUrl(services, request)}/v1/oauth/callback`;
      await withRedis(services, () =>
        services.redis.set(
          services.keys.oauthState(state),
          JSON.stringify({ hookId: hook.id, codeVerifier, redirectUri }),
          "PX",
          STATE_TTL_MS,
        ),
      );
      return authorizationUrl(settings, redirectUri, state, codeVerifier);
    };

    app.get<{ Params: { id: string } }>(
      "/v1/hooks/:id/oauth/start",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Connect a hook of the authorization_code grant: redirects to the provider",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
        },
      },
      async (request, reply) => reply.redirect(await start(request), 302),
    );

    // The same for a page that sends its key in a header, which a browser's navigation cannot:
    // it is given the URL and sends the browser there itself (the dashboard's Connect button).
    app.post<{ Params: { id: string } }>(
      "/v1/hooks/:id/oauth/start",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["hooks"],
          summary: "Connect a hook of the authorization_code grant: the provider's URL to open",
          security: [{ bearer: [] }],
          params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
          response: {
            200: {
              type: "object",
              properties: { authorizeUrl: { type: "string" } },
              required: ["authorizeUrl"],
            },
            409: { $ref: "Error#" },
            ...errorResponses,
          },
        },
      },
      async (request) => ({ authorizeUrl: await start(request) }),
    );

    app.get<{ Querystring: Record<string, string> }>(
      "/v1/oauth/callback",
      {
        schema: {
          tags: ["hooks"],
          summary: "Where the OAuth provider sends the browser back (the authorization_code grant)",
          querystring: {
            type: "object",
            properties: {
              code: { type: "string" },
              state: { type: "string" },
              error: { type: "string" },
              error_description: { type: "string" },
            },
          },
        },
      },
      async (request, reply) => {
        const state = request.query.state;
        if (typeof state !== "string" || state === "") {
          throw new ApiError("API_ERR_BAD_REQUEST", "the callback has no state", {
            problems: [{ pointer: "/query/state", message: "is required" }],
          });
        }
        const kept = await withRedis(services, () => services.redis.getdel(services.keys.oauthState(state)));
        if (kept === null) {
          throw new ApiError(
            "API_ERR_BAD_REQUEST",
            "unknown or expired state: open GET /v1/hooks/:id/oauth/start again",
            {
              problems: [
                {
                  pointer: "/query/state",
                  message: "is not one this hookwire sent, or is over ten minutes old",
                },
              ],
            },
          );
        }
        const { hookId, codeVerifier, redirectUri } = JSON.parse(kept) as {
          hookId: string;
          codeVerifier: string;
          redirectUri: string;
        };
        const hook = await findHook(services, hookId);
        const settings = hook.oauth;
        if (settings?.grant !== "authorization_code") {
          throw new ApiError(
            "API_ERR_CONFLICT",
            `hook ${hookId} no longer uses the authorization_code grant`,
          );
        }
        let token: Awaited<ReturnType<typeof exchangeCode>>;
        try {
          token = await exchangeCode(
            settings,
            new URLSearchParams(request.query),
            { state, codeVerifier, redirectUri },
            (url, init) => services.sender.fetch(url, init),
          );
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error;
          throw new ApiError(
            "API_ERR_BAD_REQUEST",
            `hook ${hookId} could not be connected: ${error.message}`,
          );
        }
        await withRedis(services, () => services.hooks.keepOAuthToken(hookId, token));
        request.log.info({ hookId }, "hook connected to its OAuth provider");
        return reply.send({ hookId, connected: true });
      },
    );
  };
}

/** Where browsers reach this ingest: HOOKWIRE_PUBLIC_URL, else the request's scheme and host. */
function publicUrl(services: Services, request: FastifyRequest): string {
  return services.config.ingest.publicUrl ?? `${request.protocol}://${request.host}`;
}
