/**
 * Failures of the delivery package. Callers branch on `code`, never on message text.
 *
 * Two families share the class: attempt outcomes (an `AttemptResult.errorCode`, classified by
 * `classifyAttempt`) and configuration errors thrown at start-up (bad schedule, bad CIDR).
 * Messages never carry a URL's path, query string or userinfo, nor header values: they may name
 * the origin (scheme, host, port) and the field that was wrong.
 */
export type DeliveryErrorCode =
  /** The whole attempt, connect, response headers or body took longer than allowed. */
  | "DELIVERY_ERR_TIMEOUT"
  /** No connection could be made: refused, unreachable, reset during connect. */
  | "DELIVERY_ERR_CONNECT"
  /** The connection broke after it was made, before a complete response. */
  | "DELIVERY_ERR_CONNECTION_LOST"
  /** The host name did not resolve (or resolved to nothing). */
  | "DELIVERY_ERR_DNS"
  /** TLS handshake or certificate verification failed. */
  | "DELIVERY_ERR_TLS"
  /** The receiver answered something that is not HTTP/1.1. */
  | "DELIVERY_ERR_BAD_RESPONSE"
  /** The destination address is not public unicast and no allowance opens it. */
  | "DELIVERY_ERR_SSRF_BLOCKED"
  /** The rendered URL is not an absolute http(s) URL. */
  | "DELIVERY_ERR_BAD_URL"
  /** The rendered request cannot be sent as is (bad method, header name or value). */
  | "DELIVERY_ERR_BAD_REQUEST"
  /** The receiver answered 3xx; redirects are never followed. */
  | "DELIVERY_ERR_REDIRECT"
  /** The sender was closed while the attempt was in flight (worker shutting down). */
  | "DELIVERY_ERR_CLOSED"
  /** The egress proxy (HOOKWIRE_EGRESS_PROXY) could not be reached or refused the tunnel: not the receiver's doing. */
  | "DELIVERY_ERR_PROXY"
  /** An error nobody anticipated; retried, since the receiver may well be fine. */
  | "DELIVERY_ERR_UNEXPECTED"
  /** A retry schedule (HOOKWIRE_RETRY_SCHEDULE, delivery.retrySchedule) is malformed. */
  | "DELIVERY_ERR_BAD_SCHEDULE"
  /** A sender or guard option is malformed (CIDR, timeout, user agent). */
  | "DELIVERY_ERR_BAD_CONFIG"
  /** A signing secret cannot be used (e.g. `whsec_` followed by something that is not base64). */
  | "DELIVERY_ERR_BAD_SECRET"
  /** No OAuth access token could be had for the hook (the provider refused, or was not reached). */
  | "DELIVERY_ERR_OAUTH";

const defaultMessages = {
  DELIVERY_ERR_TIMEOUT: "the attempt timed out",
  DELIVERY_ERR_CONNECT: "could not connect to the receiver",
  DELIVERY_ERR_CONNECTION_LOST: "the connection closed before a complete response",
  DELIVERY_ERR_DNS: "the receiver's host name did not resolve",
  DELIVERY_ERR_TLS: "the TLS handshake with the receiver failed",
  DELIVERY_ERR_BAD_RESPONSE: "the receiver's answer is not valid HTTP",
  DELIVERY_ERR_SSRF_BLOCKED: "the receiver's address is not a public one",
  DELIVERY_ERR_BAD_URL: "the hook URL is not an absolute http(s) URL",
  DELIVERY_ERR_BAD_REQUEST: "the request cannot be sent (method or header)",
  DELIVERY_ERR_REDIRECT: "the receiver answered a redirect, which is not followed",
  DELIVERY_ERR_CLOSED: "the sender was closed during the attempt",
  DELIVERY_ERR_PROXY: "the egress proxy could not be reached or refused the tunnel",
  DELIVERY_ERR_UNEXPECTED: "the attempt failed unexpectedly",
  DELIVERY_ERR_BAD_SCHEDULE: "the retry schedule is malformed",
  DELIVERY_ERR_BAD_CONFIG: "the delivery configuration is malformed",
  DELIVERY_ERR_BAD_SECRET: "the signing secret is malformed",
  DELIVERY_ERR_OAUTH: "no OAuth access token could be had for the hook",
} as const satisfies Record<DeliveryErrorCode, string>;

export class DeliveryError extends Error {
  override name = "DeliveryError";
  readonly code: DeliveryErrorCode;

  constructor(code: DeliveryErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? defaultMessages[code], options);
    this.code = code;
  }
}

export function isDeliveryError(value: unknown): value is DeliveryError {
  return value instanceof DeliveryError;
}
