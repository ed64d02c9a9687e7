/** A problem with one part of a request: where (JSON pointer) and what. */
export interface Problem {
  pointer: string;
  message: string;
}

export type ApiErrorCode =
  | "API_ERR_UNAUTHORIZED"
  | "API_ERR_FORBIDDEN"
  | "API_ERR_BAD_REQUEST"
  | "API_ERR_NOT_FOUND"
  | "API_ERR_CONFLICT"
  | "API_ERR_IN_PROGRESS"
  | "API_ERR_UNAVAILABLE"
  | "API_ERR_OVERLOADED"
  | "API_ERR_RATE_LIMITED"
  | "API_ERR_INTERNAL";

const STATUS: Record<ApiErrorCode, number> = {
  API_ERR_UNAUTHORIZED: 401,
  API_ERR_FORBIDDEN: 403,
  API_ERR_BAD_REQUEST: 400,
  API_ERR_NOT_FOUND: 404,
  API_ERR_CONFLICT: 409,
  API_ERR_IN_PROGRESS: 409,
  API_ERR_UNAVAILABLE: 503,
  API_ERR_OVERLOADED: 503,
  API_ERR_RATE_LIMITED: 429,
  API_ERR_INTERNAL: 500,
};

/** An error that becomes an HTTP answer `{ error: { code, message, problems? } }`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly problems: Problem[] | undefined;
  /** Seconds, for 503, 429 and 409 (in progress) answers. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { problems?: Problem[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.statusCode = STATUS[code];
    this.problems = options.problems;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
