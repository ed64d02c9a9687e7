export {
  type ApiKey,
  DEFAULT_HOOK_CONCURRENCY,
  type HookwireConfig,
  loadConfig,
  type Scope,
} from "./config";
export { ConfigError, type ConfigErrorCode } from "./errors";
export { createLogger, type LoggerOptions, PROJECT_ROOT } from "./logger";
