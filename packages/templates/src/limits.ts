/**
 * Caps on templates and on the work of one render. A template comes from an integration folder
 * that an operator installed, yet it runs inside ingest and the worker for every entry: these
 * caps keep one bad template from stalling either.
 */
export const TEMPLATE_LIMITS = Object.freeze({
  /** Largest template text accepted by compileTemplate (256 KiB). */
  templateMaxBytes: 256 * 1024,
  /** Largest rendered text (1 MiB, in UTF-8 bytes). */
  outputMaxBytes: 1024 * 1024,
  /**
   * Block iterations (`#each`, and a block over an array) in one render. Real templates iterate
   * over tags and custom properties: tens of items. 10 000 iterations of a small nested block
   * take 10 to 30 ms, so a template nesting #each three deep over large arrays stops there.
   */
  maxIterations: 10_000,
  /**
   * Characters produced by block iterations, escaped by `{{x}}` and read by helpers in one
   * render. Nested blocks count their text once per level, hence the margin over
   * outputMaxBytes; escaping 2 Mi characters takes some tens of milliseconds at most.
   */
  maxWorkChars: 2 * 1024 * 1024,
  /**
   * Blocks (`{{#if}}`, `{{#each}}`, ...) open inside each other at most. Real templates nest a
   * handful deep; Handlebars' parser and compiler recurse per level, so 4 000 levels took 5 s
   * to refuse and 12 000 kept the catalog's loading busy for over a minute. Counted by a scan of
   * the text before parsing, in microseconds.
   */
  maxBlockDepth: 64,
} satisfies Record<string, number>);
