import { fileURLToPath } from "node:url";
import { type Logger, pino } from "pino";

/** The checkout's root: the project's own catalog lives in `<root>/integrations`. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * Paths that may hold secrets in anything hookwire logs; pino replaces them before a line is
 * written. Code on top of that never logs form variables, headers or API keys at all.
 */
const REDACT_PATHS = [
  "formVariables",
  "*.formVariables",
  "headers",
  "*.headers",
  "req.headers.authorization",
  "authorization",
  "apiKey",
  "secret",
  "*.secret",
  "token",
];

export interface LoggerOptions {
  level: string;
  /** Service name on every line. */
  service: string;
  /** Human-readable lines (npm start on a terminal) instead of JSON. */
  pretty?: boolean;
  /** Where lines go; tests capture them. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  if (options.pretty) {
    return pino({
      ...base,
      transport: {
        target: "pino-pretty",
        options: { translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" },
      },
    });
  }
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}
