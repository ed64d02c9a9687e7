export type StoreErrorCode =
  | "STORE_ERR_NOT_FOUND"
  | "STORE_ERR_CONFLICT"
  | "STORE_ERR_BAD_SECRET_KEY"
  | "STORE_ERR_DECRYPT"
  | "STORE_ERR_BAD_ID"
  | "STORE_ERR_NOT_REPLICATED";

const DEFAULT_MESSAGES: Record<StoreErrorCode, string> = {
  STORE_ERR_NOT_FOUND: "not found",
  STORE_ERR_CONFLICT: "already exists",
  STORE_ERR_BAD_SECRET_KEY: "HOOKWIRE_SECRET_KEY is not usable",
  STORE_ERR_DECRYPT: "a stored secret could not be decrypted (was HOOKWIRE_SECRET_KEY changed?)",
  STORE_ERR_BAD_ID: "the id is not valid",
  STORE_ERR_NOT_REPLICATED: "fewer replicas than asked for hold the commit",
};

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message = DEFAULT_MESSAGES[code], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
