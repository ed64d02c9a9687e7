export { type AppOptions, buildApp, INGEST_VERSION } from "./app";
export { type AppliedHooks, applyHooksFile, HooksFileError } from "./hooks-file";
export type { EntryResult, HookOutcome, HookResult } from "./intake";
export { idempotencyRedisKey } from "./routes/entries";
