import type { AttemptResult } from "./attempt";
import type { DeliveryErrorCode } from "./errors";

/** What the queue does with a delivery after an attempt. */
export type Outcome =
  | { verb: "done" }
  | { verb: "retry"; delayMs: number; reason: string }
  | { verb: "give_up"; reason: string; disableHook: boolean };

export interface ClassifyContext {
  /** 1-based number of the attempt just made. */
  attempt: number;
  /** Delay before retry n after attempt n (seconds); attempts beyond its length give up. */
  scheduleSeconds: readonly number[];
  /** Longest Retry-After honoured; default 1 h. A receiver cannot park a delivery for a week. */
  retryAfterCapMs?: number;
  /** [0, 1) source for jitter; Math.random by default, fixed in tests. */
  random?: () => number;
}

const defaultRetryAfterCapMs = 3600e3; // 1 h
/** Up to this fraction of the delay is added, so retries of one outage spread out. */
const jitterFraction = 0.1;

/**
 * Failures without an HTTP answer. A typed table, so a new code fails the type check until it is
 * given an action. Anything that may heal by itself (network, receiver, shutdown) is retried;
 * what the same request would hit again (blocked address, bad URL or header) gives up.
 */
const errorActions: Record<DeliveryErrorCode, "retry" | "give_up"> = {
  DELIVERY_ERR_TIMEOUT: "retry",
  DELIVERY_ERR_CONNECT: "retry",
  DELIVERY_ERR_CONNECTION_LOST: "retry",
  DELIVERY_ERR_DNS: "retry",
  DELIVERY_ERR_TLS: "retry",
  DELIVERY_ERR_BAD_RESPONSE: "retry",
  DELIVERY_ERR_CLOSED: "retry",
  DELIVERY_ERR_PROXY: "retry",
  DELIVERY_ERR_UNEXPECTED: "retry",
  DELIVERY_ERR_SSRF_BLOCKED: "give_up",
  DELIVERY_ERR_BAD_URL: "give_up",
  DELIVERY_ERR_BAD_REQUEST: "give_up",
  DELIVERY_ERR_REDIRECT: "give_up",
  DELIVERY_ERR_BAD_SCHEDULE: "give_up",
  DELIVERY_ERR_BAD_CONFIG: "give_up",
  DELIVERY_ERR_BAD_SECRET: "give_up",
  // The provider may be back, or its client fixed by the operator: the schedule tries again.
  DELIVERY_ERR_OAUTH: "retry",
};

const done: Outcome = Object.freeze({ verb: "done" });

function statusAction(status: number): "done" | "retry" | "give_up" | "disable" {
  if (status >= 200 && status < 300) return "done";
  if (status === 410) return "disable";
  if (status === 408 || status === 425 || status === 429 || (status >= 500 && status < 600)) return "retry";
  return "give_up";
}

/**
 * The one place an attempt becomes a queue verb. Pure: same result and context, same outcome.
 * 2xx done; 408, 425, 429, 5xx and network failures retry after the schedule's delay (raised to
 * the receiver's Retry-After, capped, plus jitter, never earlier than scheduled); 410 gives up and
 * disables the hook; other statuses (3xx, 4xx) and unfixable requests give up; a retry beyond the
 * schedule gives up.
 */
export function classifyAttempt(result: AttemptResult, context: ClassifyContext): Outcome {
  let action: "done" | "retry" | "give_up" | "disable";
  let failure: string;
  if (result.status !== undefined) {
    action = statusAction(result.status);
    if (action === "done") return done;
    failure = `HTTP ${result.status}`;
  } else if (result.errorCode !== undefined) {
    action = errorActions[result.errorCode];
    // An OAuth failure is the provider's, not the receiver's: its answer is the reason to show.
    failure =
      result.errorCode === "DELIVERY_ERR_OAUTH" && result.errorMessage !== undefined
        ? `${result.errorCode} (${result.errorMessage})`
        : result.errorCode;
  } else {
    // A result with neither is a bug upstream; retrying keeps the delivery rather than losing it.
    action = "retry";
    failure = "attempt without status or error code";
  }

  if (action === "disable")
    return { verb: "give_up", reason: `${failure}: endpoint gone`, disableHook: true };
  if (action === "give_up") return { verb: "give_up", reason: failure, disableHook: false };

  const scheduled = context.scheduleSeconds[context.attempt - 1];
  if (scheduled === undefined) {
    return {
      verb: "give_up",
      reason: `${failure} on attempt ${context.attempt}; retry schedule exhausted`,
      disableHook: false,
    };
  }
  let delayMs = scheduled * 1000;
  if (result.retryAfterMs !== undefined) {
    const cap = context.retryAfterCapMs ?? defaultRetryAfterCapMs;
    delayMs = Math.max(delayMs, Math.min(result.retryAfterMs, cap));
  }
  const random = context.random ?? Math.random;
  delayMs += Math.floor(random() * jitterFraction * delayMs);
  return { verb: "retry", delayMs, reason: failure };
}
