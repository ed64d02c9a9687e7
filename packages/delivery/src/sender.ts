import { lookup as dnsLookup } from "node:dns";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { Agent, fetch as undiciFetch } from "undici";
import { createAddressGuard } from "./address-guard";
import type { AttemptResult, ClientTls, OutboundRequest } from "./attempt";
import { createGuardedConnector } from "./connector";
import { errorBodyLimitBytes, readErrorBody, scrubSecrets } from "./error-body";
import type { DeliveryErrorCode } from "./errors";
import { type AttemptLimits, describeFailure } from "./failure";
import { HookPools } from "./hook-pools";
import { parseRetryAfter } from "./retry-after";
import {
  maxAttemptTimeoutMs,
  maxConnectionsPerHook,
  resolveSenderConfig,
  type SenderConfig,
} from "./sender-config";

/**
 * Sends attempts; one per worker process. Each hook has keep-alive pools of its own, one per
 * origin, of at most its `connections` sockets (see hook-pools.ts).
 */
export interface Sender {
  /** Never throws for a network or receiver outcome: every failure is a result with an errorCode. */
  send(request: OutboundRequest): Promise<AttemptResult>;
  /** Stops taking attempts and waits for the ones in flight (worker SIGTERM). */
  close(): Promise<void>;
  /** Aborts attempts in flight (grace period over); they end as DELIVERY_ERR_CLOSED. */
  destroy(): Promise<void>;
  /** Whether only public unicast is reachable: feeds `errorBodyAllowed`. */
  readonly privateNetworksBlocked: boolean;
  /**
   * A fetch for the requests around deliveries (OAuth token requests), through the same SSRF
   * guard, on a small pool of its own.
   */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /**
   * Why a URL's host may never be sent to, asked when a hook is saved: a literal address the
   * guard refuses, or a name that resolves only to refused ones. Undefined when it may be (or when
   * the name does not resolve now: the guard decides at send time, which also stops rebinding).
   */
  refusedHost(url: string): Promise<string | undefined>;
}

/**
 * A body is read to its end (so the socket returns to the pool) while it stays under this;
 * beyond, the socket is sacrificed rather than spend time reading what nobody keeps.
 */
const drainLimitBytes = 64 * 1024;

/** Set by the sender itself; a hook's own header of the same name is dropped. */
const reservedHeaders = new Set([
  "user-agent",
  "x-hookwire-delivery",
  "x-hookwire-attempt",
  "host",
  "content-length",
]);

function noop(): void {}

/**
 * An attempt's deadline, handed to undici as the request's abort signal. An EventEmitter, not an
 * AbortController: undici takes either, and an AbortSignal's EventTarget listener bookkeeping
 * costs about 20 µs of CPU per request (measured against the bare loop), more than the rest of
 * the sender together.
 */
class AttemptDeadline extends EventEmitter {
  aborted = false;
  /** undici reads it on abort; none, so the abort surfaces as its own RequestAbortedError. */
  readonly reason = undefined;
}

/** The deadline's timer callback: one function for all attempts, none made per attempt. */
function expire(deadline: AttemptDeadline): void {
  deadline.aborted = true;
  deadline.emit("abort");
}

/**
 * An attempt that must wait for one of its hook's sockets (more in flight than its budget): undici
 * applies an abort only once a request reaches a socket, so without this race an attempt queued
 * behind a hanging path would outlive its deadline by however long the sockets stay taken. Never
 * on the hot path: within budget, the request goes straight to a socket and undici aborts it.
 */
function raceDeadline<T>(pending: Promise<T>, deadline: AttemptDeadline): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    pending.then(resolve, reject);
    // undici's own listener, added first, has marked the request aborted: it is never written.
    deadline.once("abort", () => reject(new Error("attempt deadline")));
  });
}

function drain(body: Readable & { dump(options: { limit: number }): Promise<unknown> }): Promise<unknown> {
  return body.dump({ limit: drainLimitBytes }).catch(noop);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function basicAuthorization(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  try {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    return `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
  } catch {
    return undefined;
  }
}

/** Flat [name, value, …] list: undici's cheapest header form. */
function buildHeaders(request: OutboundRequest, url: URL, userAgent: string, routed: boolean): string[] {
  const headers: string[] = [];
  let hasContentType = false;
  let hasAuthorization = false;
  for (const { name, value } of request.headers) {
    const lower = name.toLowerCase();
    if (reservedHeaders.has(lower)) continue;
    if (lower === "content-type") hasContentType = true;
    else if (lower === "authorization") hasAuthorization = true;
    headers.push(name, value);
  }
  if (request.body !== null && !hasContentType) headers.push("content-type", "application/json");
  if (!hasAuthorization) {
    // Credentials in the URL (https://user:pass@host/) become Basic auth, as curl does.
    const authorization = basicAuthorization(url);
    if (authorization !== undefined) headers.push("authorization", authorization);
  }
  // Sent elsewhere than its URL's origin (SenderConfig.routeOrigin): it still names its own host.
  if (routed) headers.push("host", url.host);
  headers.push(
    "user-agent",
    userAgent,
    "x-hookwire-delivery",
    request.deliveryId,
    "x-hookwire-attempt",
    String(request.attempt),
  );
  return headers;
}

function redirectMessage(origin: string, status: number, location: string | undefined, base: URL): string {
  let target = "";
  if (location !== undefined) {
    try {
      // The origin only: a path or query may carry the receiver's tokens.
      target = ` to ${new URL(location, base).origin}`;
    } catch {
      target = " to an unparsable location";
    }
  }
  return `${origin} answered ${status}, a redirect${target}; redirects are not followed, point the hook at the final URL`;
}

export function createSender(config: SenderConfig): Sender {
  const settings = resolveSenderConfig(config);
  const guard = createAddressGuard(settings);
  // One connector, the guard's, for the deliveries' pools and the side requests' alike.
  const connect = createGuardedConnector({
    guard,
    resolver: settings.lookup,
    connectTimeoutMs: settings.connectTimeoutMs,
    proxy: settings.egressProxy,
  });
  const pools = new HookPools({
    pipelining: 1,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    connect,
  });
  // A hook with TLS settings of its own connects with a connector of its own, the same guard's;
  // kept while the settings are the same object (a hook's, until the hook changes).
  const tlsConnectors = new WeakMap<ClientTls, typeof connect>();
  const connectorFor = (tls: ClientTls | undefined) => {
    if (tls === undefined) return connect;
    let own = tlsConnectors.get(tls);
    if (own === undefined) {
      own = createGuardedConnector({
        guard,
        resolver: settings.lookup,
        connectTimeoutMs: settings.connectTimeoutMs,
        proxy: settings.egressProxy,
        tls,
      });
      tlsConnectors.set(tls, own);
    }
    return own;
  };
  const side = new Agent({
    connections: 4,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    connect,
  });
  const defaultLimits: AttemptLimits = Object.freeze({
    attemptTimeoutMs: settings.attemptTimeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    headersTimeoutMs: settings.headersTimeoutMs,
    bodyTimeoutMs: settings.bodyTimeoutMs,
  });
  let closed = false;

  function limitsFor(timeoutMs: number): AttemptLimits {
    if (timeoutMs === defaultLimits.attemptTimeoutMs) return defaultLimits;
    // A hook given a longer attempt is a slow receiver: its header and body waits grow with it.
    return {
      ...defaultLimits,
      attemptTimeoutMs: timeoutMs,
      headersTimeoutMs: Math.max(defaultLimits.headersTimeoutMs, timeoutMs),
      bodyTimeoutMs: Math.max(defaultLimits.bodyTimeoutMs, timeoutMs),
    };
  }

  function failed(startedAt: number, t0: number, code: DeliveryErrorCode, message: string): AttemptResult {
    return { startedAt, durationMs: performance.now() - t0, errorCode: code, errorMessage: message };
  }

  async function send(request: OutboundRequest): Promise<AttemptResult> {
    const startedAt = Date.now();
    const t0 = performance.now();

    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return failed(startedAt, t0, "DELIVERY_ERR_BAD_URL", "the hook URL is not a valid absolute URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return failed(
        startedAt,
        t0,
        "DELIVERY_ERR_BAD_URL",
        `the hook URL's scheme must be http or https, got ${JSON.stringify(url.protocol.slice(0, 16))}`,
      );
    }
    const origin = url.origin;
    if (closed)
      return failed(startedAt, t0, "DELIVERY_ERR_CLOSED", `the sender is closed; nothing sent to ${origin}`);

    const timeoutMs = request.timeoutMs ?? settings.attemptTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > maxAttemptTimeoutMs) {
      return failed(
        startedAt,
        t0,
        "DELIVERY_ERR_BAD_REQUEST",
        `timeoutMs must be an integer from 1 to ${maxAttemptTimeoutMs}, got ${String(timeoutMs)}`,
      );
    }
    const connections = request.connections;
    if (!Number.isInteger(connections) || connections < 1 || connections > maxConnectionsPerHook) {
      return failed(
        startedAt,
        t0,
        "DELIVERY_ERR_BAD_REQUEST",
        `connections must be an integer from 1 to ${maxConnectionsPerHook}, got ${String(connections)}`,
      );
    }
    const limits = limitsFor(timeoutMs);

    const routed = settings.routeOrigin?.(origin);
    const hookPool = pools.acquire(request.hookId, connections, routed ?? origin, connectorFor(request.tls));
    const deadline = new AttemptDeadline();
    const timer = setTimeout(expire, timeoutMs, deadline);
    // Rare (ordered hooks only): an AbortSignal's listener costs what the deadline saves.
    const { cancel } = request;
    const cut = cancel === undefined ? undefined : () => expire(deadline);
    if (cancel !== undefined && cut !== undefined) {
      if (cancel.aborted) cut();
      else cancel.addEventListener("abort", cut, { once: true });
    }
    try {
      const pending = hookPool.pool.request({
        path: url.pathname + url.search,
        method: request.method,
        headers: buildHeaders(request, url, settings.userAgent, routed !== undefined),
        body: request.body,
        signal: deadline,
        headersTimeout: limits.headersTimeoutMs,
        bodyTimeout: limits.bodyTimeoutMs,
      });
      const response = await (hookPool.inFlight > connections ? raceDeadline(pending, deadline) : pending);
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        await drain(response.body);
        return { startedAt, durationMs: performance.now() - t0, status };
      }
      const result: AttemptResult = { startedAt, durationMs: 0, status };
      const retryAfterMs = parseRetryAfter(firstHeader(response.headers["retry-after"]), Date.now());
      if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
      if (status >= 300 && status < 400) {
        result.errorCode = "DELIVERY_ERR_REDIRECT";
        result.errorMessage = redirectMessage(origin, status, firstHeader(response.headers.location), url);
      }
      if (request.captureErrorBody) {
        const kept = await readErrorBody(response.body, errorBodyLimitBytes, drainLimitBytes);
        result.errorBody = request.secrets === undefined ? kept : scrubSecrets(kept, request.secrets);
      } else {
        await drain(response.body);
      }
      result.durationMs = performance.now() - t0;
      return result;
    } catch (error) {
      const failure = describeFailure(error, origin, limits, deadline.aborted);
      return failed(startedAt, t0, failure.code, failure.message);
    } finally {
      clearTimeout(timer);
      if (cancel !== undefined && cut !== undefined) cancel.removeEventListener("abort", cut);
      pools.release(hookPool);
    }
  }

  return {
    send,
    privateNetworksBlocked: guard.privateNetworksBlocked,
    async refusedHost(url) {
      let host: string;
      try {
        host = new URL(url).hostname.replace(/^\[|\]$/g, "");
      } catch {
        return undefined;
      }
      if (isIP(host) !== 0) return guard.whyRefused(host);
      const resolve = settings.lookup ?? dnsLookup;
      const addresses = await new Promise<{ address: string }[]>((done) =>
        resolve(host, { all: true }, (error, found) => done(error ? [] : found)),
      );
      if (addresses.length === 0) return undefined;
      const reasons = addresses.map(({ address }) => guard.whyRefused(address));
      if (reasons.some((reason) => reason === undefined)) return undefined;
      return `${host} resolves only to refused addresses (${reasons[0]})`;
    },
    fetch: (url, init) =>
      undiciFetch(url, {
        ...(init as Parameters<typeof undiciFetch>[1]),
        dispatcher: side,
        signal: init.signal ?? AbortSignal.timeout(settings.attemptTimeoutMs),
      }) as unknown as Promise<Response>,
    async close() {
      closed = true;
      // A second close (or one after destroy) finds the side pool gone already: nothing to do.
      await Promise.all([pools.close(), side.close().catch(noop)]);
    },
    async destroy() {
      closed = true;
      await Promise.all([pools.destroy(), side.destroy().catch(noop)]);
    },
  };
}
