import type { LookupAddress, LookupAllOptions } from "node:dns";
import { DeliveryError } from "./errors";

/** dns.lookup's `all: true` form; `dns.lookup` itself fits. Tests pass their own resolver. */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface SenderConfig {
  /** "hookwire/<version>". */
  userAgent: string;
  /** HOOKWIRE_ALLOW_PRIVATE_NETWORKS: turns the SSRF guard off entirely. */
  allowPrivateNetworks: boolean;
  /** HOOKWIRE_ALLOWED_NETWORKS: CIDRs opened despite the guard, e.g. ["10.20.0.0/16"]. */
  allowedNetworks: readonly string[];
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Whole attempt, unless a request carries its own `timeoutMs`. */
  attemptTimeoutMs?: number;
  /** Idle keep-alive socket lifetime, unless the receiver's Keep-Alive header says shorter. */
  keepAliveTimeoutMs?: number;
  lookup?: Resolver;
  /**
   * For tests only, like `lookup` (the environment cannot set it): the origin an attempt's
   * connections go to instead of its URL's, e.g. every fixed host of the framework's integrations
   * to one receiver on loopback. The request keeps its path, its query and its Host header.
   */
  routeOrigin?: (origin: string) => string;
  /**
   * HOOKWIRE_EGRESS_PROXY: an HTTP CONNECT proxy (`http://[user:password@]host:port`) every
   * delivery's connection is tunnelled through, so receivers see the proxy's fixed addresses.
   */
  egressProxy?: string | undefined;
}

/** The egress proxy, parsed: where to connect, and the Proxy-Authorization to send, if any. */
export interface EgressProxy {
  readonly host: string;
  readonly port: number;
  readonly authorization: string | undefined;
}

export interface ResolvedSenderConfig {
  readonly userAgent: string;
  readonly allowPrivateNetworks: boolean;
  readonly allowedNetworks: readonly string[];
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly lookup: Resolver | undefined;
  readonly routeOrigin: ((origin: string) => string) | undefined;
  readonly egressProxy: EgressProxy | undefined;
}

/** HOOKWIRE_EGRESS_PROXY as the connector uses it; the message never quotes its password. */
export function parseEgressProxy(value: string | undefined): EgressProxy | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_CONFIG",
      "HOOKWIRE_EGRESS_PROXY must be an http:// URL of a CONNECT proxy, e.g. http://10.0.0.9:3128",
    );
  }
  if (url.protocol !== "http:" || url.hostname === "" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_CONFIG",
      `HOOKWIRE_EGRESS_PROXY must be http://[user:password@]host:port with no path, not a ${url.protocol}// URL${url.pathname.length > 1 ? " with a path" : ""}`,
    );
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return Object.freeze({
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || 80),
    authorization:
      user === "" && password === ""
        ? undefined
        : `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`,
  });
}

const defaults = {
  connectTimeoutMs: 5e3, // 5 s
  headersTimeoutMs: 10e3, // 10 s
  bodyTimeoutMs: 10e3, // 10 s
  attemptTimeoutMs: 15e3, // 15 s
  // undici's own default: a receiver that closes idle sockets without a Keep-Alive hint (many do
  // after 5 s) would otherwise race our next request and fail it with a reset.
  keepAliveTimeoutMs: 4e3, // 4 s
} satisfies Partial<ResolvedSenderConfig>;

const maxTimeoutMs = 600e3; // 10 min: an attempt longer than that is a stuck worker slot

function positiveInteger(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_CONFIG",
      `sender option ${name} must be an integer from 1 to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Defaults applied, values checked, result frozen: called once, when the worker starts. */
export function resolveSenderConfig(config: SenderConfig): ResolvedSenderConfig {
  if (typeof config.userAgent !== "string" || !/^[\x21-\x7e][\x20-\x7e]*$/.test(config.userAgent)) {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_CONFIG",
      `sender option userAgent must be non-empty printable ASCII such as "hookwire/0.1.0", got ${JSON.stringify(config.userAgent)}`,
    );
  }
  return Object.freeze({
    egressProxy: parseEgressProxy(config.egressProxy),
    userAgent: config.userAgent,
    allowPrivateNetworks: config.allowPrivateNetworks === true,
    allowedNetworks: Object.freeze([...config.allowedNetworks]),
    connectTimeoutMs: positiveInteger(
      "connectTimeoutMs",
      config.connectTimeoutMs,
      defaults.connectTimeoutMs,
      maxTimeoutMs,
    ),
    headersTimeoutMs: positiveInteger(
      "headersTimeoutMs",
      config.headersTimeoutMs,
      defaults.headersTimeoutMs,
      maxTimeoutMs,
    ),
    bodyTimeoutMs: positiveInteger(
      "bodyTimeoutMs",
      config.bodyTimeoutMs,
      defaults.bodyTimeoutMs,
      maxTimeoutMs,
    ),
    attemptTimeoutMs: positiveInteger(
      "attemptTimeoutMs",
      config.attemptTimeoutMs,
      defaults.attemptTimeoutMs,
      maxTimeoutMs,
    ),
    keepAliveTimeoutMs: positiveInteger(
      "keepAliveTimeoutMs",
      config.keepAliveTimeoutMs,
      defaults.keepAliveTimeoutMs,
      maxTimeoutMs,
    ),
    lookup: config.lookup,
    routeOrigin: config.routeOrigin,
  });
}

/** Upper bound for a request's own `timeoutMs`, shared with the sender's validation. */
export const maxAttemptTimeoutMs = maxTimeoutMs;

/** Upper bound for a request's `connections`: the highest concurrency a hook may be given. */
export const maxConnectionsPerHook = 1000;
