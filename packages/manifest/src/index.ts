export {
  type AttemptDeps,
  type AttemptMade,
  makeAttempt,
  type PreparedRequest,
  prepareRequest,
  type RequestDelivery,
  type RequestHook,
} from "./attempt-request";
export {
  type BodyTemplateKey,
  bodyReadsSecrets,
  chooseTemplate,
  KIND_TEMPLATES,
  type RenderBodyOptions,
  renderBody,
} from "./body";
export {
  describeProblemLocation,
  ManifestError,
  type ManifestNoticeCode,
  type ManifestProblem,
  type ManifestProblemCode,
} from "./errors";
export {
  checkFormValues,
  coerceFormValue,
  type FormValueError,
  placeholderFormValues,
} from "./form-values";
export { checkFrameworkRules } from "./framework-rules";
export {
  type Endpoint,
  type EndpointHeader,
  FORM_VARIABLE_TYPES,
  type FormValues,
  type FormVariable,
  type FormVariableType,
  type Integration,
  TEMPLATE_KEYS,
  type TemplateKey,
} from "./integration";
export { type Catalog, catalogDirs, type LoadResult, loadCatalog, loadIntegration } from "./loader";
export { type Preview, previewRequest } from "./preview";
export {
  endpointTemplates,
  type OAuthCredentials,
  renderRequest,
  requestReadsSecrets,
  signatureHeader,
} from "./request";
export { MANIFEST_SCHEMA } from "./schema";
