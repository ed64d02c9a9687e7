export {
  type AttemptRecord,
  DEFAULT_RETENTION_MS,
  DeliveryLog,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  decodeRecord,
  encodeRecord,
  LOG_SCRIPTS,
  type RetentionMs,
} from "./delivery-log";
export { DeliveryLogs } from "./delivery-logs";
export { type DeliveryCommit, DeliveryWriter } from "./delivery-writer";
export { StoreError, type StoreErrorCode } from "./errors";
export {
  checkHookId,
  type FormValue,
  type Hook,
  type HookDeliverySettings,
  type HookDisabled,
  type HookInput,
  type HookOAuth,
  type HookTls,
  hookSecretKeys,
  newHookId,
  oauthTokensDigest,
  REDACTED,
  redactedValue,
  redactHook,
  type SecretRotation,
} from "./hook";
export {
  decodeHealth,
  encodeCircuit,
  type HealthView,
  healthView,
  readHookHealth,
  type StoredCircuit,
  type StoredHealth,
} from "./hook-health";
export { HookStore, type HookStoreOptions } from "./hook-store";
export { isLeaseToken, LEASE_SCRIPTS, Lease, type LeaseState, takeLeases } from "./leases";
export {
  addEvent,
  decodeEvent,
  OPERATIONAL_ACTIONS,
  type OperationalAction,
  type OperationalEvent,
  writeEvent,
} from "./operational-events";
export {
  decodeClaim,
  decodeEntryTrace,
  encodeClaim,
  encodeTrace,
  type RequestTrace,
  type TracedOutcome,
} from "./request-trace";
export { generateSecretKey, SecretBox } from "./secret-box";
