import { type DeliveryErrorCode, isDeliveryError } from "./errors";

/** The timing limits in force for one attempt, to word a timeout. */
export interface AttemptLimits {
  attemptTimeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface Failure {
  code: DeliveryErrorCode;
  message: string;
}

const connectCodes = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
]);
const lostCodes = new Set([
  "UND_ERR_SOCKET",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const dnsCodes = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "ENODATA", "ESERVFAIL"]);

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Happy-eyeballs failures arrive as an AggregateError of one error per address tried.
  if (error instanceof AggregateError) return errorCodeOf(error.errors[0]);
  return undefined;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
  );
}

/**
 * Turns whatever a send threw into a code and a message. Only codes and the origin (scheme, host,
 * port) reach the message, never the thrown error's own text: that may quote a URL or a header.
 * `attemptTimedOut` says the attempt's own deadline fired, whatever error the abort surfaced as.
 */
export function describeFailure(
  error: unknown,
  origin: string,
  limits: AttemptLimits,
  attemptTimedOut: boolean,
): Failure {
  if (attemptTimedOut) {
    return {
      code: "DELIVERY_ERR_TIMEOUT",
      message: `no complete answer from ${origin} within ${limits.attemptTimeoutMs} ms (attempt timeout)`,
    };
  }
  if (isDeliveryError(error)) return { code: error.code, message: error.message };
  const code = errorCodeOf(error) ?? "no error code";
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return {
        code: "DELIVERY_ERR_TIMEOUT",
        message: `connecting to ${origin} took longer than ${limits.connectTimeoutMs} ms`,
      };
    case "UND_ERR_HEADERS_TIMEOUT":
      return {
        code: "DELIVERY_ERR_TIMEOUT",
        message: `${origin} sent no response headers within ${limits.headersTimeoutMs} ms`,
      };
    case "UND_ERR_BODY_TIMEOUT":
      return {
        code: "DELIVERY_ERR_TIMEOUT",
        message: `${origin} paused its response body for more than ${limits.bodyTimeoutMs} ms`,
      };
    case "UND_ERR_DESTROYED":
    case "UND_ERR_CLOSED":
    case "UND_ERR_ABORTED":
    case "UND_ERR_ABORT":
    case "ABORT_ERR":
      return {
        code: "DELIVERY_ERR_CLOSED",
        message: `the sender closed before the attempt to ${origin} finished`,
      };
    case "UND_ERR_INVALID_ARG":
    case "ERR_INVALID_ARG_TYPE":
    case "ERR_INVALID_ARG_VALUE":
    case "ERR_INVALID_CHAR":
    case "ERR_INVALID_HTTP_TOKEN":
    case "UND_ERR_NOT_SUPPORTED": {
      // undici's argument messages name the offending field ("invalid upgrade header"), never its value.
      const detail =
        code === "UND_ERR_INVALID_ARG" && error instanceof Error ? `: ${error.message}` : ` (${code})`;
      return {
        code: "DELIVERY_ERR_BAD_REQUEST",
        message: `the request to ${origin} cannot be sent${detail}`,
      };
    }
    case "UND_ERR_HEADERS_OVERFLOW":
    case "UND_ERR_INFO":
      return {
        code: "DELIVERY_ERR_BAD_RESPONSE",
        message: `${origin} answered with unusable HTTP (${code})`,
      };
  }
  if (code.startsWith("HPE_")) {
    return { code: "DELIVERY_ERR_BAD_RESPONSE", message: `${origin} answered with invalid HTTP (${code})` };
  }
  if (connectCodes.has(code)) {
    return { code: "DELIVERY_ERR_CONNECT", message: `could not connect to ${origin} (${code})` };
  }
  if (lostCodes.has(code)) {
    return {
      code: "DELIVERY_ERR_CONNECTION_LOST",
      message: `the connection to ${origin} closed before a complete response (${code})`,
    };
  }
  if (dnsCodes.has(code)) {
    return { code: "DELIVERY_ERR_DNS", message: `the host of ${origin} did not resolve (${code})` };
  }
  if (isTlsCode(code)) {
    return { code: "DELIVERY_ERR_TLS", message: `TLS with ${origin} failed (${code})` };
  }
  return { code: "DELIVERY_ERR_UNEXPECTED", message: `the attempt to ${origin} failed (${code})` };
}
