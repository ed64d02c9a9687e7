import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { keyspace } from "@hookwire/queue";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "./support/corpus";
import { entryFixture } from "./support/fixtures";
import { eventually, type ReceivedRequest } from "./support/receiver";
import { testScope } from "./support/scope";
import type { System } from "./support/system";

// OAuth 2.0 for hooks of requiresOAuth integrations: appdynamics from the framework's corpus,
// unchanged, against a real token endpoint (an HTTP server here, RFC 6749's client_credentials
// and refresh_token grants) and a receiver that checks the bearer token.

const scope = testScope();

interface TokenEndpoint {
  url: string;
  /** The form fields of each token request, and its Authorization header. */
  requests: { form: URLSearchParams; authorization: string | undefined }[];
  /** What the next requests are answered: a token's lifetime, or a refusal. */
  answer: { expiresIn: number } | { status: number; error: string; description: string };
  close(): Promise<void>;
}

async function tokenEndpoint(): Promise<TokenEndpoint> {
  let issued = 0;
  const endpoint: TokenEndpoint = {
    url: "",
    requests: [],
    answer: { expiresIn: 3600 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      endpoint.requests.push({ form: new URLSearchParams(body), authorization: req.headers.authorization });
      const answer = endpoint.answer;
      res.setHeader("content-type", "application/json");
      res.setHeader("cache-control", "no-store");
      if ("status" in answer) {
        res
          .writeHead(answer.status)
          .end(JSON.stringify({ error: answer.error, error_description: answer.description }));
        return;
      }
      issued++;
      res.writeHead(200).end(
        JSON.stringify({
          access_token: `tok-${issued}`,
          token_type: "Bearer",
          expires_in: answer.expiresIn,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
  return endpoint;
}

const bearer = (request: ReceivedRequest) => String(request.headers.authorization ?? "");

describe("OAuth 2.0 hooks", () => {
  test("the framework's corpus is there to deliver appdynamics (required in CI)", (context) => {
    expectCorpus(context, "the OAuth end-to-end tests");
  });

  const withCorpus = test.runIf(corpusDir !== undefined);

  /** A system with the corpus' integrations, a token endpoint and a receiver refusing `refused` tokens. */
  async function setUp(label: string, oauth: Record<string, unknown> = {}) {
    const refused = new Set<string>();
    const rx = await scope.receiver((request, response) => {
      response.writeHead(refused.has(bearer(request).replace(/^Bearer /, "")) ? 401 : 200).end("{}");
    });
    const tokens = await tokenEndpoint();
    scope.defer(() => tokens.close());
    const sys = await scope.system({
      label,
      env: { HOOKWIRE_INTEGRATIONS_DIR: join(corpusDir ?? "", "integrations") },
    });
    const created = await sys.api("POST", "/v1/hooks", {
      integration: "appdynamics",
      name: "appdynamics",
      formVariables: { account: "acme", applicationID: "shop app" },
      oauth: {
        grant: "client_credentials",
        tokenUrl: tokens.url,
        clientId: "hookwire@acme",
        clientSecret: "the-client-secret",
        clientAuth: "post",
        baseURI: rx.url,
        ...oauth,
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return { rx, tokens, sys, refused, hookId: created.json.id as string, created: created.json };
  }

  let posted = 0;
  async function post(sys: System, hookId: string): Promise<string> {
    const entry = entryFixture("flag-toggle", { _id: `oauth-${++posted}` });
    const answer = await sys.api("POST", "/v1/entries", entry);
    expect(answer.status).toBe(202);
    return `${hookId}.${entry._id}`;
  }

  async function settled(sys: System, deliveryId: string, status: string) {
    let record: any;
    await eventually(async () => {
      record = (await sys.api("GET", `/v1/deliveries/${deliveryId}`)).json;
      return record?.status === status;
    });
    return record;
  }

  withCorpus("appdynamics, unchanged, is delivered with a token from a real token endpoint", async () => {
    const { rx, tokens, sys, hookId, created } = await setUp("oauth-deliver");
    // The client secret is never shown.
    expect(created.oauth.clientSecret).toBe("********");
    expect(JSON.stringify((await sys.api("GET", `/v1/hooks/${hookId}`)).json)).not.toContain(
      "the-client-secret",
    );

    await settled(sys, await post(sys, hookId), "succeeded");
    const [request] = rx.requests;
    expect(request?.url).toMatch(
      /^\/controller\/rest\/applications\/shop%20app\/events\?summary=LaunchDarkly/,
    );
    expect(bearer(request!)).toBe("Bearer tok-1");
    // RFC 6749 4.4, the client authenticated in the body (clientAuth "post", as AppDynamics wants).
    expect(tokens.requests).toHaveLength(1);
    const form = tokens.requests[0]!.form;
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "client_credentials",
      client_id: "hookwire@acme",
      client_secret: "the-client-secret",
    });
    expect(sys.logLines.join("\n")).not.toContain("the-client-secret");
    // Sealed at rest, like a secret form variable.
    const stored = JSON.stringify(await sys.redis.hgetall(keyspace(sys.config.queuePrefix).hooks));
    expect(stored).toContain("hookwire@acme");
    expect(stored).not.toContain("the-client-secret");

    // A token still good is used again: one token request for two deliveries.
    await settled(sys, await post(sys, hookId), "succeeded");
    expect(tokens.requests).toHaveLength(1);
  });

  withCorpus("a token about to expire is replaced before it is used", async () => {
    const { rx, tokens, sys, hookId } = await setUp("oauth-expire");
    // Tokens of 30 s: within the minute kept in hand, so each delivery asks for a new one.
    tokens.answer = { expiresIn: 30 };
    await settled(sys, await post(sys, hookId), "succeeded");
    await settled(sys, await post(sys, hookId), "succeeded");
    expect(tokens.requests).toHaveLength(2);
    expect(rx.requests.map(bearer)).toEqual(["Bearer tok-1", "Bearer tok-2"]);
  });

  withCorpus("a 401 gets one new token and one more try, which is the attempt that counts", async () => {
    const { rx, tokens, sys, hookId, refused } = await setUp("oauth-401");
    refused.add("tok-1");
    const record = await settled(sys, await post(sys, hookId), "succeeded");
    expect(rx.requests.map(bearer)).toEqual(["Bearer tok-1", "Bearer tok-2"]);
    expect(tokens.requests).toHaveLength(2);
    expect(record.attempts.map((a: { statusCode?: number }) => a.statusCode)).toEqual([200]);
  });

  withCorpus(
    "a token request the provider refuses fails the attempt, and the hook's health says why",
    async () => {
      const { rx, tokens, sys, hookId } = await setUp("oauth-broken");
      tokens.answer = { status: 401, error: "invalid_client", description: "unknown client secret" };
      const record = await settled(sys, await post(sys, hookId), "failed");
      expect(rx.requests).toHaveLength(0);
      expect(record.attempts[0].errorCode).toBe("DELIVERY_ERR_OAUTH");
      expect(record.attempts[0].errorMessage).toContain("invalid_client: unknown client secret");
      const hook = (await sys.api("GET", `/v1/hooks/${hookId}`)).json;
      expect(hook.health.lastFailureReason).toContain("invalid_client: unknown client secret");
    },
  );

  withCorpus(
    "a token grant is refreshed with its refresh token once expired, and the new tokens kept with the hook",
    async () => {
      const { rx, tokens, sys, hookId } = await setUp("oauth-refresh", {
        grant: "token",
        accessToken: "tok-given",
        refreshToken: "refresh-1",
        expiresAt: new Date(Date.now() - 1000).toISOString(),
        clientSecret: "the-client-secret",
        clientAuth: "basic",
      });
      await settled(sys, await post(sys, hookId), "succeeded");
      expect(rx.requests.map(bearer)).toEqual(["Bearer tok-1"]);
      expect(Object.fromEntries(tokens.requests[0]!.form)).toEqual({
        grant_type: "refresh_token",
        refresh_token: "refresh-1",
      });
      // client_secret_basic: the client in an Authorization header, each part form-encoded (RFC 6749 2.3.1).
      const basic = Buffer.from(String(tokens.requests[0]!.authorization).replace(/^Basic /, ""), "base64")
        .toString()
        .split(":")
        .map((part) => decodeURIComponent(part));
      expect(basic).toEqual(["hookwire@acme", "the-client-secret"]);
      // Kept with the hook (the API's copy of the hooks catches up within its cache time).
      let hook: any;
      await eventually(async () => {
        hook = (await sys.api("GET", `/v1/hooks/${hookId}`)).json;
        return Date.parse(hook.oauth.expiresAt) > Date.now();
      });
      expect(hook.oauth).toMatchObject({ grant: "token", accessToken: "********", refreshToken: "********" });
    },
  );

  withCorpus(
    "the authorization_code grant: start redirects to the provider, the callback's code becomes tokens, the hook delivers",
    async () => {
      const { rx, tokens, sys, hookId } = await setUp("oauth-code", {
        grant: "authorization_code",
        authorizeUrl: "https://provider.example/authorize",
        scope: "events:write",
      });
      // Not connected yet: nothing to send with.
      const early = await settled(sys, await post(sys, hookId), "failed");
      expect(early.attempts[0].errorMessage).toContain("not connected yet");

      const start = await fetch(`${sys.baseUrl}/v1/hooks/${hookId}/oauth/start`, {
        headers: { authorization: `Bearer ${sys.apiKey}` },
        redirect: "manual",
      });
      expect(start.status).toBe(302);
      const authorize = new URL(start.headers.get("location") ?? "");
      expect(authorize.origin + authorize.pathname).toBe("https://provider.example/authorize");
      const query = Object.fromEntries(authorize.searchParams);
      expect(query).toMatchObject({
        response_type: "code",
        client_id: "hookwire@acme",
        redirect_uri: `${sys.baseUrl}/v1/oauth/callback`,
        code_challenge_method: "S256",
        scope: "events:write",
      });

      // The operator consents; the provider sends the browser back with a code and the state.
      const wrong = await fetch(`${sys.baseUrl}/v1/oauth/callback?code=c-1&state=not-ours`);
      expect(wrong.status).toBe(400);
      const back = await fetch(`${sys.baseUrl}/v1/oauth/callback?code=c-1&state=${query.state}`);
      expect(back.status, await back.clone().text()).toBe(200);
      expect(await back.json()).toEqual({ hookId, connected: true });
      // RFC 6749 4.1.3 with PKCE (RFC 7636): the code, the same redirect_uri, the verifier of the challenge.
      const exchange = tokens.requests.at(-1)!.form;
      expect(exchange.get("grant_type")).toBe("authorization_code");
      expect(exchange.get("code")).toBe("c-1");
      expect(exchange.get("redirect_uri")).toBe(`${sys.baseUrl}/v1/oauth/callback`);
      const verifier = exchange.get("code_verifier") ?? "";
      expect(createHash("sha256").update(verifier).digest("base64url")).toBe(query.code_challenge);
      // A state is taken once.
      expect((await fetch(`${sys.baseUrl}/v1/oauth/callback?code=c-1&state=${query.state}`)).status).toBe(
        400,
      );

      await settled(sys, await post(sys, hookId), "succeeded");
      expect(rx.requests.map(bearer)).toEqual(["Bearer tok-1"]);
    },
  );

  withCorpus(
    "a hook of a requiresOAuth integration without oauth, or with a bad one, is refused with pointers",
    async () => {
      const sys = await scope.system({
        label: "oauth-input",
        env: { HOOKWIRE_INTEGRATIONS_DIR: join(corpusDir ?? "", "integrations") },
      });
      const base = {
        integration: "appdynamics",
        name: "x",
        formVariables: { account: "a", applicationID: "b" },
      };
      const none = await sys.api("POST", "/v1/hooks", base);
      expect(none.status).toBe(400);
      expect(none.json.error.problems.map((p: { pointer: string }) => p.pointer)).toEqual(["/oauth"]);
      const bad = await sys.api("POST", "/v1/hooks", {
        ...base,
        oauth: {
          grant: "client_credentials",
          tokenUrl: "not a url",
          clientId: "c",
          baseURI: "https://x",
          extra: 1,
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.problems.map((p: { pointer: string }) => p.pointer).sort()).toEqual(
        ["/oauth/clientSecret", "/oauth/extra", "/oauth/tokenUrl"].sort(),
      );
      const generic = await sys.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "g",
        formVariables: { url: "https://example.com" },
        oauth: { grant: "token", accessToken: "t", baseURI: "https://x" },
      });
      expect(generic.status).toBe(400);
      expect(generic.json.error.problems[0].message).toContain("does not use OAuth");
    },
  );
});
