export type ConfigErrorCode = "CONFIG_ERR_INVALID";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code: ConfigErrorCode = "CONFIG_ERR_INVALID";
  /** One line per bad variable: its name, its value (never for secrets) and what it must be. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.problems = problems;
  }
}
