/**
 * OAuth 2.0 access tokens for the hooks of `requiresOAuth` integrations (RFC 6749), requested
 * with oauth4webapi (a well-kept, dependency-free client that takes the fetch it is given): the
 * client_credentials grant; the authorization_code grant (with PKCE, RFC 7636), whose code an
 * operator's browser brings back; and the refresh_token grant for the tokens either gave. Requests are
 * form-encoded, the client authenticated with HTTP Basic (`client_secret_basic`, the default) or
 * in the body (`post`, for providers such as AppDynamics). They go out through the fetch the
 * caller passes, the sender's: the same SSRF guard as every delivery.
 *
 * `OAuthTokens` keeps each hook's token in memory, asks for a new one before it expires (or when
 * a receiver answered 401), one request per hook at a time, and hands refreshed tokens (of the
 * token and authorization_code grants) to `persist` (a provider may rotate the refresh token).
 */
import * as oauth from "oauth4webapi";
import type { AttemptResult } from "./attempt";

/** A hook's OAuth settings, as the operator gives them (secrets in clear, in memory only). */
export type HookOAuth =
  | {
      grant: "client_credentials";
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string | undefined;
      clientAuth?: "basic" | "post" | undefined;
      baseURI: string;
    }
  | {
      grant: "authorization_code";
      authorizeUrl: string;
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string | undefined;
      clientAuth?: "basic" | "post" | undefined;
      baseURI: string;
      /** Set once an operator connected the hook (GET /v1/hooks/:id/oauth/start, then the callback). */
      accessToken?: string | undefined;
      refreshToken?: string | undefined;
      expiresAt?: string | undefined;
    }
  | {
      grant: "token";
      accessToken: string;
      refreshToken?: string | undefined;
      /** ISO 8601: when the access token expires. */
      expiresAt?: string | undefined;
      tokenUrl?: string | undefined;
      clientId?: string | undefined;
      clientSecret?: string | undefined;
      scope?: string | undefined;
      clientAuth?: "basic" | "post" | undefined;
      baseURI: string;
    };

/** The fields of HookOAuth that are secrets: encrypted at rest, `********` in every answer. */
export const OAUTH_SECRET_FIELDS = ["clientSecret", "accessToken", "refreshToken"] as const;

export interface OAuthToken {
  accessToken: string;
  /** Epoch ms; undefined when the provider did not say. */
  expiresAt: number | undefined;
  refreshToken?: string | undefined;
}

/** A token request the provider refused or that failed: its answer, for the hook's health. */
export class OAuthError extends Error {
  override readonly name = "OAuthError";
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** The provider as oauth4webapi addresses it, for one hook's settings. */
function providerOf(settings: HookOAuth, fetcher: Fetch) {
  const tokenUrl = settings.tokenUrl;
  if (tokenUrl === undefined)
    throw new OAuthError("the access token expired, and there is no tokenUrl to refresh it");
  let endpoint: URL;
  try {
    endpoint = new URL(tokenUrl);
  } catch {
    throw new OAuthError(`tokenUrl ${JSON.stringify(tokenUrl)} is not an absolute URL`);
  }
  const as: oauth.AuthorizationServer = { issuer: endpoint.origin, token_endpoint: endpoint.href };
  const client: oauth.Client = { client_id: settings.clientId ?? "" };
  const secret = settings.clientSecret ?? "";
  const auth =
    settings.clientAuth === "post" ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  const options = {
    [oauth.customFetch]: (url: string, init: RequestInit) => fetcher(url, init),
    // The guard decides which hosts may be reached; plain http is the operator's choice.
    [oauth.allowInsecureRequests]: endpoint.protocol === "http:",
  };
  const where = `${endpoint.origin}${endpoint.pathname}`;
  return { as, client, auth, options, where };
}

function tokenOf(answer: oauth.TokenEndpointResponse, now: number): OAuthToken {
  return {
    accessToken: answer.access_token,
    expiresAt: typeof answer.expires_in === "number" ? now + answer.expires_in * 1000 : undefined,
    refreshToken: answer.refresh_token,
  };
}

/** Asks the provider for a token: client credentials, or a refresh of the tokens a hook has. */
export async function requestToken(
  settings: HookOAuth,
  fetcher: Fetch,
  now = Date.now(),
): Promise<OAuthToken> {
  const { as, client, auth, options, where } = providerOf(settings, fetcher);
  try {
    if (settings.grant === "client_credentials") {
      const params: Record<string, string> = settings.scope ? { scope: settings.scope } : {};
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, params, options);
      return tokenOf(await oauth.processClientCredentialsResponse(as, client, response), now);
    }
    if (settings.refreshToken === undefined) {
      throw new OAuthError(
        settings.grant === "authorization_code" && settings.accessToken === undefined
          ? "the hook is not connected yet: an admin opens GET /v1/hooks/<id>/oauth/start in a browser"
          : "the access token expired, and there is no refreshToken to refresh it",
      );
    }
    const response = await oauth.refreshTokenGrantRequest(as, client, auth, settings.refreshToken, options);
    return tokenOf(await oauth.processRefreshTokenResponse(as, client, response), now);
  } catch (error) {
    throw new OAuthError(`the token request to ${where} failed: ${describe(error)}`, { cause: error });
  }
}

/**
 * Where to send the operator's browser to connect a hook of the authorization_code grant: the
 * provider's authorize URL with the client, the callback, the state and the PKCE challenge.
 */
export async function authorizationUrl(
  settings: Extract<HookOAuth, { grant: "authorization_code" }>,
  redirectUri: string,
  state: string,
  codeVerifier: string,
): Promise<string> {
  const url = new URL(settings.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", settings.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  if (settings.scope) url.searchParams.set("scope", settings.scope);
  return url.href;
}

/** A fresh PKCE verifier and state for `authorizationUrl`. */
export function authorizationSecrets(): { state: string; codeVerifier: string } {
  return { state: oauth.generateRandomState(), codeVerifier: oauth.generateRandomCodeVerifier() };
}

/**
 * Trades the code the provider sent back (the callback's query, its state checked) for tokens.
 * Rejects with OAuthError: the provider's error (the operator declined), a state that does not
 * match, a code it refuses.
 */
export async function exchangeCode(
  settings: Extract<HookOAuth, { grant: "authorization_code" }>,
  callback: URLSearchParams,
  expected: { state: string; codeVerifier: string; redirectUri: string },
  fetcher: Fetch,
  now = Date.now(),
): Promise<OAuthToken> {
  const { as, client, auth, options, where } = providerOf(settings, fetcher);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback, expected.state);
  } catch (error) {
    throw new OAuthError(`the provider's answer cannot be used: ${describe(error)}`, { cause: error });
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      params,
      expected.redirectUri,
      expected.codeVerifier,
      options,
    );
    return tokenOf(await oauth.processAuthorizationCodeResponse(as, client, response), now);
  } catch (error) {
    throw new OAuthError(`the token request to ${where} failed: ${describe(error)}`, { cause: error });
  }
}

/** The provider's answer in a sentence: its error and description, or the failure. */
function describe(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) {
    return `${error.status} ${error.error}${error.error_description ? `: ${error.error_description}` : ""}`;
  }
  if (error instanceof OAuthError) return error.message;
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return `${(error as Error).message}${cause ? ` (${cause})` : ""}`;
}

/** A token this close to its expiry is replaced before use. */
const REFRESH_AHEAD_MS = 60_000;

export interface OAuthTokensOptions {
  fetch: Fetch;
  /** Stores a refreshed token grant's new tokens with the hook (encrypted, like its secrets). */
  persist?: (hookId: string, token: OAuthToken) => Promise<void>;
}

/** What identifies a hook's OAuth client: its settings without the tokens (which change as they are refreshed). */
function clientKey(settings: HookOAuth): string {
  const {
    accessToken: _a,
    refreshToken: _r,
    expiresAt: _e,
    ...client
  } = settings as HookOAuth & {
    accessToken?: string;
    refreshToken?: string;
    expiresAt?: string;
  };
  return JSON.stringify(client);
}

export class OAuthTokens {
  readonly #options: OAuthTokensOptions;
  readonly #tokens = new Map<string, { key: string; token: OAuthToken }>();
  readonly #pending = new Map<string, Promise<OAuthToken>>();

  constructor(options: OAuthTokensOptions) {
    this.#options = options;
  }

  /**
   * What a request of the hook carries (the framework's `oauth.baseURI`, `oauth.accessToken`), or,
   * when no token can be had, the attempt that failed for it: DELIVERY_ERR_OAUTH with the
   * provider's answer. The worker's attempts and "test this hook" alike.
   */
  async credentials(
    hook: { id: string; oauth: HookOAuth },
    stale?: string,
  ): Promise<{ oauth: { baseURI: string; accessToken: string } } | { failed: AttemptResult }> {
    const startedAt = Date.now();
    try {
      return { oauth: { baseURI: hook.oauth.baseURI, accessToken: await this.accessToken(hook, stale) } };
    } catch (error) {
      return {
        failed: {
          startedAt,
          durationMs: Date.now() - startedAt,
          errorCode: "DELIVERY_ERR_OAUTH",
          errorMessage: (error as Error).message,
        },
      };
    }
  }

  /**
   * The access token to send for the hook now. `stale`: a receiver refused the one it was given
   * (401), so a new one is asked for. Rejects with OAuthError when none can be had.
   */
  async accessToken(
    hook: { id: string; oauth: HookOAuth },
    stale?: string,
    now = Date.now(),
  ): Promise<string> {
    const settings = hook.oauth;
    const key = clientKey(settings);
    const fresh = (token: OAuthToken) =>
      token.accessToken !== stale &&
      (token.expiresAt === undefined || token.expiresAt - REFRESH_AHEAD_MS > now);
    const cached = this.#tokens.get(hook.id);
    const mine = cached !== undefined && cached.key === key ? cached.token : undefined;
    if (mine !== undefined && fresh(mine)) return mine.accessToken;
    if (settings.grant !== "client_credentials" && settings.accessToken !== undefined) {
      // The hook's own tokens: what the operator gave (or the callback), or what a refresh stored since.
      const given: OAuthToken = {
        accessToken: settings.accessToken,
        expiresAt: settings.expiresAt === undefined ? undefined : Date.parse(settings.expiresAt),
        refreshToken: settings.refreshToken,
      };
      if (fresh(given)) {
        this.#tokens.set(hook.id, { key, token: given });
        return given.accessToken;
      }
    }
    let pending = this.#pending.get(hook.id);
    if (pending === undefined) {
      const refreshToken =
        settings.grant === "client_credentials" ? undefined : (mine?.refreshToken ?? settings.refreshToken);
      const asked = settings.grant === "client_credentials" ? settings : { ...settings, refreshToken };
      pending = requestToken(asked, this.#options.fetch, now)
        .then(async (token) => {
          // A provider that does not rotate the refresh token keeps the one it was given.
          const kept = { ...token, refreshToken: token.refreshToken ?? refreshToken };
          this.#tokens.set(hook.id, { key, token: kept });
          if (settings.grant !== "client_credentials") await this.#options.persist?.(hook.id, kept);
          return kept;
        })
        .finally(() => this.#pending.delete(hook.id));
      this.#pending.set(hook.id, pending);
    }
    return (await pending).accessToken;
  }
}
