import type { DeliveryErrorCode } from "./errors";

/**
 * The words of this package (see ARCHITECTURE.md): a *delivery* is one entry going to one hook;
 * an *attempt* is one HTTP request of it. The worker renders an `OutboundRequest` from the hook's
 * current settings at send time, the sender turns it into an `AttemptResult`, and
 * `classifyAttempt` turns that into a queue verb.
 */

export interface HeaderField {
  name: string;
  value: string;
}

/** A hook's TLS settings, PEM: a client certificate and its key for receivers that require mTLS, a CA to trust. */
export interface ClientTls {
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
}

export interface OutboundRequest {
  /** Absolute http(s) URL, rendered. May hold secrets: it is never echoed in errors or logs. */
  url: string;
  method: string;
  /** Rendered hook headers; values may hold secrets. The sender adds its own three. */
  headers: readonly HeaderField[];
  body: string | null;
  /** The hook the delivery goes to: its attempts share the hook's own connections. */
  hookId: string;
  /**
   * The hook's connection budget: sockets it may hold open to each origin, its concurrency
   * (`delivery.concurrency`, else HOOKWIRE_HOOK_CONCURRENCY). Attempts beyond it wait for one of
   * the hook's sockets, never for another hook's.
   */
  connections: number;
  /** Stable across retries: receivers dedupe on it (X-Hookwire-Delivery). */
  deliveryId: string;
  /** 1-based number of this attempt (X-Hookwire-Attempt). */
  attempt: number;
  /** Whole attempt, connect to last body byte; default the sender's attemptTimeoutMs (15 s). */
  timeoutMs?: number;
  /** Keep the first 4 KiB of a non-2xx body; see `errorBodyAllowed` for when that is allowed. */
  captureErrorBody: boolean;
  /** The secret values the request carries, blanked out of a kept error body (scrubSecrets). */
  secrets?: readonly string[];
  /** The hook's TLS settings (`delivery.tls`): its connections are made with them. */
  tls?: ClientTls | undefined;
  /**
   * Cuts the attempt short when it aborts, as its deadline would (an ordered hook's worker that
   * lost the sequence's lock: see the worker's sequencer.ts).
   */
  cancel?: AbortSignal | undefined;
}

export interface AttemptResult {
  /** Epoch ms when the attempt began. */
  startedAt: number;
  durationMs: number;
  /** The receiver's status code, when it answered. */
  status?: number;
  /** Set when there is no usable answer, and for a 3xx (DELIVERY_ERR_REDIRECT). */
  errorCode?: DeliveryErrorCode;
  /** Human-readable; names at most the origin of the URL, never its path, query or userinfo. */
  errorMessage?: string;
  /** From the receiver's Retry-After on a non-2xx answer. */
  retryAfterMs?: number;
  /** First 4 KiB of a non-2xx body (UTF-8, cut at a character boundary), when asked for. */
  errorBody?: string;
}
