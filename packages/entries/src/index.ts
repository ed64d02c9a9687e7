export { ENTRY_ID_PATTERN, entryIdOf, isEntryId, MAX_ENTRY_ID_LENGTH, newEntryId } from "./entry-id";
export { describeIssue, EntryError, type EntryErrorCode, InvalidEntryError } from "./errors";
export { isJsonPointer } from "./issue-list";
export { escapeHtml, renderMarkdown } from "./markdown";
export { DEFAULT_MAX_ENTRIES, entryShapeOf, normaliseBody, normaliseEntry, parseEntry } from "./normalise";
export { type ResourceLevel, resourceLevels } from "./resource";
export { DEFAULT_LIMITS as DEFAULT_ENTRY_LIMITS } from "./sanitiser";
export { entrySchema } from "./schema";
export { timestampOf } from "./timestamp";
export type {
  Access,
  Entry,
  EntryEnvironment,
  EntryIssue,
  EntryIssueCode,
  EntryLimits,
  EntryProject,
  EntryShape,
  EntryTimestamp,
  NormaliseBodyOptions,
  NormaliseBodyResult,
  NormaliseEntryResult,
  RichText,
} from "./types";
