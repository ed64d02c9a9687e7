import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import { Agent, type Dispatcher, fetch as undiciFetch } from "undici";
import { createAddressGuard } from "./address-guard";
import type { AttemptResult, ClientTls, OutboundRequest } from "./attempt";
import { createGuardedConnector } from "./connector";
import { BodyPrefix, errorBodyLimitBytes, scrubSecrets } from "./error-body";
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

/** What an attempt's exchange came to once its response began. */
interface Answer {
  status: number;
  /** undici's raw [name, value, …] of a response not 2xx (none read from a 2xx). */
  headers: Buffer[] | undefined;
  /** The kept start of a body not 2xx, when the attempt asked for it. */
  body: BodyPrefix | undefined;
}

/**
 * One attempt's request and response, as the handler undici's `dispatch` drives. undici's own
 * `request` makes a Readable stream, an AsyncResource and a promise chain per response, and parses
 * headers nobody reads: a draining worker spent 91 µs of CPU per delivery with it, 81 without
 * (`npm run compare`, 6 rounds). `answer` resolves once the response has ended, or broken off
 * after its status (what arrived stands: the status tells the outcome); it rejects with what
 * failed before.
 *
 * The attempt's deadline calls `expire`: a request on a socket is aborted there; one still waiting
 * for a socket (more in flight than the hook's budget) is answered at once, and aborted unsent when
 * undici hands it a socket later (undici applies an abort only then), so an attempt queued behind
 * a hanging path never outlives its deadline.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly answer: Promise<Answer>;
  /** The attempt's deadline fired (or its cancel): whatever error follows is a timeout. */
  expired = false;
  #resolve!: (answer: Answer) => void;
  #reject!: (error: unknown) => void;
  #abort: ((error?: Error) => void) | undefined;
  readonly #keepsBody: boolean;
  #status = 0;
  #headers: Buffer[] | undefined;
  #body: BodyPrefix | undefined;
  #seen = 0;

  constructor(keepsBody: boolean) {
    this.#keepsBody = keepsBody;
    this.answer = new Promise<Answer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  expire(): void {
    if (this.expired) return;
    this.expired = true;
    if (this.#abort !== undefined) this.#abort();
    else this.#reject(new Error("attempt deadline"));
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.expired) abort();
    else this.#abort = abort;
  }

  onHeaders(status: number, headers: Buffer[]): boolean {
    this.#status = status;
    if (status < 200 || status >= 300) {
      this.#headers = headers;
      if (this.#keepsBody) this.#body = new BodyPrefix(errorBodyLimitBytes, drainLimitBytes);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    let more: boolean;
    if (this.#body === undefined) {
      this.#seen += chunk.length;
      more = this.#seen <= drainLimitBytes;
    } else {
      more = this.#body.add(chunk);
    }
    // Past the drain limit the socket is given up rather than read on; the abort ends the
    // exchange through onError, with the status already in.
    if (!more) this.#abort?.();
    return more;
  }

  onComplete(): void {
    this.#answered();
  }

  onError(error: Error): void {
    if (this.#status !== 0) this.#answered();
    else this.#reject(error);
  }

  #answered(): void {
    this.#resolve({ status: this.#status, headers: this.#headers, body: this.#body });
  }
}

/** The attempt's deadline: one function for all attempts, none made per attempt. */
function expire(exchange: Exchange): void {
  exchange.expire();
}

/** The first value of a header in undici's raw [name, value, …] (names in any case). */
function rawHeader(headers: Buffer[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i] as Buffer;
    if (key.length === name.length && key.toString("latin1").toLowerCase() === name) {
      return (headers[i + 1] as Buffer).toString("latin1");
    }
  }
  return undefined;
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

/** What an attempt needs of its hook's URL: parsed once per URL text, not once per delivery. */
interface Target {
  url: URL;
  origin: string;
  /** Path and query, as the request line sends them. */
  path: string;
  /** Basic auth from credentials in the URL. */
  authorization: string | undefined;
}

/** A hook URL's Target, or why it cannot be sent to. */
function parseTarget(text: string): Target | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "the hook URL is not a valid absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `the hook URL's scheme must be http or https, got ${JSON.stringify(url.protocol.slice(0, 16))}`;
  }
  return { url, origin: url.origin, path: url.pathname + url.search, authorization: basicAuthorization(url) };
}

/** URLs whose Target is kept: past this many the cache starts again (hooks' URLs are few). */
const MAX_TARGETS = 1_000;

/** Flat [name, value, …] list: undici's cheapest header form. */
function buildHeaders(
  request: OutboundRequest,
  target: Target,
  userAgent: string,
  routed: boolean,
): string[] {
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
  // Credentials in the URL (https://user:pass@host/) become Basic auth, as curl does.
  if (!hasAuthorization && target.authorization !== undefined)
    headers.push("authorization", target.authorization);
  // Sent elsewhere than its URL's origin (SenderConfig.routeOrigin): it still names its own host.
  if (routed) headers.push("host", target.url.host);
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
  const targets = new Map<string, Target | string>();
  function targetOf(text: string): Target | string {
    let target = targets.get(text);
    if (target === undefined) {
      target = parseTarget(text);
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(text, target);
    }
    return target;
  }

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

    const target = targetOf(request.url);
    if (typeof target === "string") return failed(startedAt, t0, "DELIVERY_ERR_BAD_URL", target);
    const { url, origin } = target;
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
    const exchange = new Exchange(request.captureErrorBody === true);
    const timer = setTimeout(expire, timeoutMs, exchange);
    // Rare (ordered hooks only): an AbortSignal's listener costs what the deadline saves.
    const { cancel } = request;
    const cut = cancel === undefined ? undefined : () => exchange.expire();
    if (cancel !== undefined && cut !== undefined) {
      if (cancel.aborted) cut();
      else cancel.addEventListener("abort", cut, { once: true });
    }
    try {
      hookPool.pool.dispatch(
        {
          path: target.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: buildHeaders(request, target, settings.userAgent, routed !== undefined),
          body: request.body,
          headersTimeout: limits.headersTimeoutMs,
          bodyTimeout: limits.bodyTimeoutMs,
        },
        exchange,
      );
      const { status, headers, body } = await exchange.answer;
      if (status >= 200 && status < 300) return { startedAt, durationMs: performance.now() - t0, status };
      const result: AttemptResult = { startedAt, durationMs: performance.now() - t0, status };
      const retryAfterMs = parseRetryAfter(rawHeader(headers, "retry-after"), Date.now());
      if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
      if (status >= 300 && status < 400) {
        result.errorCode = "DELIVERY_ERR_REDIRECT";
        result.errorMessage = redirectMessage(origin, status, rawHeader(headers, "location"), url);
      }
      if (body !== undefined) {
        const kept = body.text();
        result.errorBody = request.secrets === undefined ? kept : scrubSecrets(kept, request.secrets);
      }
      return result;
    } catch (error) {
      const failure = describeFailure(error, origin, limits, exchange.expired);
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
