/**
 * Failures of compiling or rendering a template. Callers branch on `code`, never on the message.
 *
 * Messages name the template file and line and never quote rendered data: a body may hold a
 * secret form variable, so the values a template read are kept out of every message.
 */
export type TemplateErrorCode =
  | "TEMPLATES_ERR_COMPILE"
  | "TEMPLATES_ERR_TOO_LARGE"
  | "TEMPLATES_ERR_TOO_DEEP"
  | "TEMPLATES_ERR_MISSING_FIELD"
  | "TEMPLATES_ERR_RENDER"
  | "TEMPLATES_ERR_RENDER_LIMIT"
  | "TEMPLATES_ERR_OUTPUT_TOO_LARGE"
  | "TEMPLATES_ERR_INVALID_JSON";

const DEFAULT_MESSAGES: Record<TemplateErrorCode, string> = {
  TEMPLATES_ERR_COMPILE: "the template does not compile",
  TEMPLATES_ERR_TOO_LARGE: "the template is larger than the limit",
  TEMPLATES_ERR_TOO_DEEP: "the template nests blocks deeper than the limit",
  TEMPLATES_ERR_MISSING_FIELD: "the template reads a field the context does not have",
  TEMPLATES_ERR_RENDER: "the template failed while rendering",
  TEMPLATES_ERR_RENDER_LIMIT: "rendering the template took more work than allowed",
  TEMPLATES_ERR_OUTPUT_TOO_LARGE: "the rendered text is larger than the limit",
  TEMPLATES_ERR_INVALID_JSON: "a JSON template rendered text that is not valid JSON",
};

/** A field a strict render read and did not find. */
export interface MissingField {
  /** The path as written, e.g. `project.environment.key`. */
  field: string;
  /** The segment that was not there, e.g. `environment`. */
  segment: string;
  line: number;
  column: number;
}

export interface TemplateErrorDetails {
  /** The template's file, as given to compileTemplate. */
  file?: string;
  /** 1-based line in the template (or, for TEMPLATES_ERR_INVALID_JSON, in the rendered text). */
  line?: number;
  /** 1-based column on that line. */
  column?: number;
  /** TEMPLATES_ERR_MISSING_FIELD: the path as written in the template, e.g. `project.environment.key`. */
  field?: string;
  /** TEMPLATES_ERR_MISSING_FIELD: every missing field of the render, the first one above. */
  missing?: readonly MissingField[];
  /** TEMPLATES_ERR_INVALID_JSON: 0-based offset of the first bad character in the rendered text. */
  position?: number;
  /** TEMPLATES_ERR_INVALID_JSON: the rendered text around `position`. */
  snippet?: string;
  cause?: unknown;
}

export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly code: TemplateErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;
  readonly missing: readonly MissingField[];
  readonly position: number | undefined;
  readonly snippet: string | undefined;

  constructor(code: TemplateErrorCode, message?: string, details: TemplateErrorDetails = {}) {
    super(
      message ?? DEFAULT_MESSAGES[code],
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.code = code;
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.field = details.field;
    this.missing = details.missing ?? [];
    this.position = details.position;
    this.snippet = details.snippet;
  }
}

/** `file:line:column` as far as it is known, for the start of a message. */
export function describeLocation(file: string | undefined, line?: number, column?: number): string {
  let where = file ?? "template";
  if (line !== undefined) where += `:${line}`;
  if (line !== undefined && column !== undefined) where += `:${column}`;
  return where;
}
