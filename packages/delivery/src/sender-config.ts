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
