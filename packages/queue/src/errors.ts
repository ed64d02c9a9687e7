export type QueueErrorCode = "QUEUE_ERR_UNAVAILABLE" | "QUEUE_ERR_BAD_CONFIG";

const DEFAULT_MESSAGES: Record<QueueErrorCode, string> = {
  QUEUE_ERR_UNAVAILABLE: "Redis does not answer",
  QUEUE_ERR_BAD_CONFIG: "the queue configuration is invalid",
};

export class QueueError extends Error {
  override readonly name = "QueueError";
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message = DEFAULT_MESSAGES[code], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
