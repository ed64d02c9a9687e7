/**
 * Problems with an integration folder. Loading never throws for a bad manifest: it collects
 * ManifestProblems (each naming the file and the JSON pointer or template line) so that one
 * broken integration is reported and the rest of the catalog still loads. ManifestError is
 * for callers that want to throw those problems on.
 */
export type ManifestProblemCode =
  | "MANIFEST_ERR_CATALOG_DIR"
  | "MANIFEST_ERR_READ"
  | "MANIFEST_ERR_JSON"
  | "MANIFEST_ERR_SCHEMA"
  | "MANIFEST_ERR_NO_AUDIT_LOG_HOOK"
  | "MANIFEST_ERR_DUPLICATE_VARIABLE"
  | "MANIFEST_ERR_SECRET_NOT_STRING"
  | "MANIFEST_ERR_DEFAULT_NOT_OPTIONAL"
  | "MANIFEST_ERR_DEFAULT_TYPE"
  | "MANIFEST_ERR_ENUM_VALUES"
  | "MANIFEST_ERR_DYNAMIC_OPTIONS"
  | "MANIFEST_ERR_HMAC_VARIABLE_MISSING"
  | "MANIFEST_ERR_HMAC_VARIABLE_NOT_SECRET"
  | "MANIFEST_ERR_TEMPLATES_WITH_STANDARD_PAYLOAD"
  | "MANIFEST_ERR_NO_ENDPOINT"
  | "MANIFEST_ERR_ENDPOINT_TEMPLATE"
  | "MANIFEST_ERR_UNKNOWN_VARIABLE"
  | "MANIFEST_ERR_TEMPLATE_PATH"
  | "MANIFEST_ERR_TEMPLATE_MISSING"
  | "MANIFEST_ERR_TEMPLATE_COMPILE"
  | "MANIFEST_ERR_POLICY"
  /** What the framework's review rejects (hookwire validate --framework: framework-rules.ts). */
  | "MANIFEST_ERR_FRAMEWORK";

/** Things worth saying that do not stop an integration from loading. */
export type ManifestNoticeCode =
  | "MANIFEST_NOTE_IGNORED_CAPABILITY"
  | "MANIFEST_NOTE_IGNORED_FIELD"
  | "MANIFEST_NOTE_CUSTOM_DELIVERY"
  | "MANIFEST_NOTE_OAUTH"
  | "MANIFEST_NOTE_UNKNOWN_HELPER"
  | "MANIFEST_NOTE_OAUTH_NOT_REQUIRED"
  | "MANIFEST_NOTE_POLICY"
  | "MANIFEST_NOTE_REPLACED"
  | "MANIFEST_NOTE_NOT_AN_INTEGRATION";

export interface ManifestProblem {
  /** The manifest or template file the problem is in. */
  file: string;
  /** JSON pointer into the manifest, e.g. `/formVariables/2/isSecret`. */
  pointer?: string;
  /** 1-based line, in a template (or in the manifest for a JSON syntax error). */
  line?: number;
  code: ManifestProblemCode | ManifestNoticeCode;
  message: string;
}

/** Where a problem is, as `file#pointer` or `file:line`, for the start of a message. */
export function describeProblemLocation(problem: Pick<ManifestProblem, "file" | "pointer" | "line">): string {
  if (problem.line !== undefined) return `${problem.file}:${problem.line}`;
  if (problem.pointer !== undefined) return `${problem.file}#${problem.pointer}`;
  return problem.file;
}

export class ManifestError extends Error {
  override readonly name = "ManifestError";
  readonly code: ManifestProblemCode;
  readonly problems: readonly ManifestProblem[];

  constructor(problems: readonly ManifestProblem[], message?: string, options?: { cause?: unknown }) {
    const first = problems[0];
    const code = (first?.code ?? "MANIFEST_ERR_SCHEMA") as ManifestProblemCode;
    const summary =
      first === undefined
        ? "the integration is not valid"
        : `${describeProblemLocation(first)}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`;
    super(message ?? summary, options);
    this.code = code;
    this.problems = problems;
  }
}
