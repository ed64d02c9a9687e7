export type QueueErrorCode = "QUEUE_ERR_UNAVAILABLE" | "QUEUE_ERR_BAD_CONFIG" | "QUEUE_ERR_NOT_DURABLE";

const DEFAULT_MESSAGES: Record<QueueErrorCode, string> = {
  QUEUE_ERR_UNAVAILABLE: "Redis does not answer",
  QUEUE_ERR_BAD_CONFIG: "the queue configuration is invalid",
  QUEUE_ERR_NOT_DURABLE: "Redis does not keep acknowledged entries across a restart",
};

export class QueueError extends Error {
  override readonly name = "QueueError";
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message = DEFAULT_MESSAGES[code], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
