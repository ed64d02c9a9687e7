export { type AddressGuard, type AddressGuardConfig, createAddressGuard } from "./address-guard";
export type { AttemptResult, ClientTls, HeaderField, OutboundRequest } from "./attempt";
export {
  type CircuitAdmission,
  type CircuitConfig,
  type CircuitEvent,
  type CircuitState,
  CLOSED_CIRCUIT,
  circuitAdmission,
  nextCircuitState,
} from "./circuit";
export { errorBodyAllowed, errorBodyLimitBytes, keepsErrorBody, scrubSecrets } from "./error-body";
export { DeliveryError, type DeliveryErrorCode, isDeliveryError } from "./errors";
export {
  authorizationSecrets,
  authorizationUrl,
  exchangeCode,
  type HookOAuth,
  OAUTH_SECRET_FIELDS,
  OAuthError,
  type OAuthToken,
  OAuthTokens,
  type OAuthTokensOptions,
  requestToken,
} from "./oauth";
export { type ClassifyContext, classifyAttempt, type Outcome } from "./outcome";
export { parseRetryAfter } from "./retry-after";
export { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "./retry-schedule";
export { createSender, type Sender } from "./sender";
export type { Resolver, SenderConfig } from "./sender-config";
export { hmacSha256Hex, standardWebhookHeaders } from "./signature";
