export { accessesOf } from "./accesses";
export { actionsFor, allActions, isKnownType, pathOf, RESOURCE_TYPES, type ResourceType } from "./catalog";
export {
  describeIssue,
  InvalidPolicyError,
  PolicyError,
  type PolicyErrorCode,
  SpecifierSyntaxError,
} from "./errors";
export { Glob, type StepMeter } from "./glob";
export { editDistance, nearestName } from "./nearest-name";
export { compilePolicy } from "./policy";
export {
  parseSpecifier,
  printSpecifier,
  type ResourceLevel,
  type ResourceSpecifier,
} from "./specifier";
export type { Access, CompiledPolicy, Decision, Effect, EntryLike, PolicyIssue, Statement } from "./types";
export { type PolicyIssueCode, validatePolicy } from "./validation";
