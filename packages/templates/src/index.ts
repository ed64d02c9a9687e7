export { BUILTIN_DEFAULT_TEMPLATE, BUILTIN_DEFAULT_TEMPLATE_FILE } from "./builtin-template";
export { type CompiledTemplate, compileTemplate, type RenderOptions } from "./compiled-template";
export { htmlEscaped } from "./environment";
export {
  type MissingField,
  TemplateError,
  type TemplateErrorCode,
  type TemplateErrorDetails,
} from "./errors";
export {
  basicAuthHeaderValue,
  equal,
  FRAMEWORK_HELPERS,
  formatWithOffset,
  pathEncode,
  queryEncode,
  stringForm,
} from "./helpers";
export { assertRenderedJson, findJsonFault, type JsonFault, jsonSnippet } from "./json-check";
export { escapeJsonString, escapeJsonStrings } from "./json-escape";
export { TEMPLATE_LIMITS } from "./limits";
export type { TemplateAnalysis, TemplatePath, TemplateSegment } from "./syntax";
