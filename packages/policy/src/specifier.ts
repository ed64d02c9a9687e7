/**
 * Resource specifiers: `type/key;tag,tag:type/key…`, or the bare `acct`.
 *
 * The same grammar writes a statement's resource patterns (where `*` globs keys and tags) and an
 * access's concrete resource (where every character is literal). Keys and tags may hold any
 * character but the separators `:` `;` `/` `,`, whitespace and control characters; there is no
 * escaping, so printing a parsed specifier and parsing it again gives the same specifier.
 */
import { quote, SpecifierSyntaxError } from "./errors";

export interface ResourceLevel {
  readonly type: string;
  readonly key: string;
  /** Tags after `;`, in the order written; empty when the level has none. */
  readonly tags: readonly string[];
}

export type ResourceSpecifier =
  | { readonly kind: "acct" }
  | { readonly kind: "path"; readonly levels: readonly ResourceLevel[] };

/** Where parsing stopped and what it expected there; `position` is a character offset. */
export interface SpecifierProblem {
  readonly kind: "problem";
  readonly position: number;
  readonly expected: string;
}

const ACCT = "acct";
const ACCT_SPECIFIER: ResourceSpecifier = Object.freeze({ kind: "acct" });

/** Parses a specifier; throws SpecifierSyntaxError (code POLICY_ERR_BAD_SPECIFIER) saying where and what. */
export function parseSpecifier(text: string): ResourceSpecifier {
  if (typeof text !== "string") {
    throw new SpecifierSyntaxError(String(text), 0, `expected a string but found ${typeof text}`);
  }
  const result = readSpecifier(text);
  if (result.kind === "problem") throw new SpecifierSyntaxError(text, result.position, result.expected);
  return result;
}

export function printSpecifier(specifier: ResourceSpecifier): string {
  if (specifier.kind === "acct") return ACCT;
  return specifier.levels.map(printLevel).join(":");
}

function printLevel(level: ResourceLevel): string {
  const head = `${level.type}/${level.key}`;
  return level.tags.length === 0 ? head : `${head};${level.tags.join(",")}`;
}

/** Parses without throwing: validation collects every problem instead of stopping at the first. */
export function readSpecifier(text: string): ResourceSpecifier | SpecifierProblem {
  if (text === ACCT) return ACCT_SPECIFIER;
  const levels: ResourceLevel[] = [];
  let pos = 0;
  for (;;) {
    const typeStart = pos;
    while (pos < text.length && isTypeChar(text.charCodeAt(pos))) pos++;
    if (pos === typeStart) {
      const expected =
        levels.length === 0
          ? `expected a resource type such as "proj", or the bare "acct", but found ${found(text, pos)}`
          : `expected a resource type after ":" but found ${found(text, pos)}`;
      return problem(typeStart, expected);
    }
    const type = text.slice(typeStart, pos);
    if (type === ACCT) {
      return problem(typeStart, `"acct" stands alone: it takes no key and no other levels`);
    }
    if (text.charCodeAt(pos) !== SLASH) {
      return problem(
        pos,
        `expected "/" and a key after resource type "${type}" but found ${found(text, pos)}`,
      );
    }
    pos++;
    const keyStart = pos;
    while (pos < text.length && isKeyChar(text.charCodeAt(pos))) pos++;
    if (pos === keyStart) {
      return problem(pos, `expected a key or "*" after "${type}/" but found ${found(text, pos)}`);
    }
    const key = text.slice(keyStart, pos);
    const tags: string[] = [];
    if (text.charCodeAt(pos) === SEMICOLON) {
      for (;;) {
        const separator = text[pos];
        pos++;
        const tagStart = pos;
        while (pos < text.length && isTagChar(text.charCodeAt(pos))) pos++;
        if (pos === tagStart) {
          return problem(pos, `expected a tag after "${separator}" but found ${found(text, pos)}`);
        }
        tags.push(text.slice(tagStart, pos));
        if (text.charCodeAt(pos) !== COMMA) break;
      }
    }
    levels.push({ type, key, tags });
    if (pos === text.length) return { kind: "path", levels };
    if (text.charCodeAt(pos) !== COLON) {
      const next =
        tags.length === 0
          ? `":" and the next level, ";" and tags,`
          : `":" and the next level, "," and a tag,`;
      return problem(pos, `expected ${next} or the end of the specifier but found ${found(text, pos)}`);
    }
    pos++;
  }
}

const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;

function problem(position: number, expected: string): SpecifierProblem {
  return { kind: "problem", position, expected };
}

function found(text: string, pos: number): string {
  if (pos >= text.length) return "the end of the specifier";
  const char = String.fromCodePoint(text.codePointAt(pos) ?? 0);
  const note = isSpace(text.charCodeAt(pos)) ? " (whitespace is not allowed)" : "";
  return `${quote(char)}${note}`;
}

function isTypeChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x5f // _
  );
}

function isKeyChar(c: number): boolean {
  return c !== COLON && c !== SEMICOLON && c !== SLASH && c !== COMMA && !isSpace(c);
}

function isTagChar(c: number): boolean {
  return isKeyChar(c);
}

/** Whitespace and control characters (what `\s` and the C0/C1 ranges hold), without a RegExp per call. */
function isSpace(c: number): boolean {
  return (
    c <= 0x20 ||
    (c >= 0x7f && c <= 0xa0) ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
