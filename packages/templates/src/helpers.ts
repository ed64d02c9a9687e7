import type { HelperOptions } from "handlebars";
import { chargeWork } from "./budget";

/**
 * The integration framework's custom helpers, with the outputs ARCHITECTURE.md defines.
 * Each takes Handlebars' options object last; when a template passes fewer arguments, that
 * object arrives in an argument's place, so arguments are split from it before use.
 */

/** The string form of a value as the framework compares and encodes it: nothing is "". */
export function stringForm(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : String(value);
}

// encodeURI throws on a lone surrogate; the framework's renderer writes U+FFFD there instead.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

// Handlebars always passes its options object last: an object with a `hash` and the helper's name.
function isOptions(value: unknown): value is HelperOptions {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { hash?: unknown; name?: unknown };
  return typeof candidate.hash === "object" && typeof candidate.name === "string";
}

/** Splits helper arguments from Handlebars' trailing options object. */
function split(args: unknown[]): { params: unknown[]; options: HelperOptions | undefined } {
  const last = args[args.length - 1];
  if (isOptions(last)) return { params: args.slice(0, -1), options: last };
  return { params: args, options: undefined };
}

/**
 * `{{#equal a b}}…{{else}}…{{/equal}}`: the block when the string forms are equal. Used as a
 * subexpression (`{{#if (equal a b)}}`) it gives the boolean.
 */
export function equal(this: unknown, ...args: unknown[]): unknown {
  const { params, options } = split(args);
  const left = stringForm(params[0]);
  const right = stringForm(params[1]);
  chargeWork(left.length + right.length);
  const same = left === right;
  if (options?.fn === undefined) return same;
  return same ? options.fn(this) : options.inverse(this);
}

/** `{{pathEncode v}}`: encodeURI of the string form. */
export function pathEncode(...args: unknown[]): string {
  const text = stringForm(split(args).params[0]);
  chargeWork(text.length);
  return encodeURI(wellFormed(text));
}

/** `{{queryEncode v}}`: encodeURIComponent of the string form. */
export function queryEncode(...args: unknown[]): string {
  const text = stringForm(split(args).params[0]);
  chargeWork(text.length);
  return encodeURIComponent(wellFormed(text));
}

/** `{{basicAuthHeaderValue user pass}}`: `Basic ` + base64 of the UTF-8 `user:pass`. */
export function basicAuthHeaderValue(...args: unknown[]): string {
  const { params } = split(args);
  const credentials = `${stringForm(params[0])}:${stringForm(params[1])}`;
  chargeWork(credentials.length);
  return `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
}

function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") return Number(value);
  return Number.NaN;
}

/**
 * `{{formatWithOffset ms offsetSeconds format}}`: the time `ms + offsetSeconds·1000` as
 * `milliseconds`, `seconds` (floored), `rfc3339` (UTC, no fraction) or `simple`
 * (`YYYY-MM-DD HH:MM:SS`, UTC); any other format gives milliseconds. A time that is not a
 * number renders as nothing, like any missing field.
 */
export function formatWithOffset(...args: unknown[]): string {
  const { params } = split(args);
  const ms = toNumber(params[0]);
  const offsetSeconds = params[1] === undefined ? 0 : toNumber(params[1]);
  if (!Number.isFinite(ms) || !Number.isFinite(offsetSeconds)) return "";
  const time = ms + offsetSeconds * 1000;
  const format = stringForm(params[2]);
  if (format === "seconds") return String(Math.floor(time / 1000));
  if (format === "rfc3339" || format === "simple") {
    const date = new Date(Math.floor(time));
    if (Number.isNaN(date.getTime())) return "";
    const iso = date.toISOString(); // 2020-02-04T01:54:45.123Z
    const seconds = iso.slice(0, iso.length - 5);
    return format === "rfc3339" ? `${seconds}Z` : seconds.replace("T", " ");
  }
  return String(time);
}

/** Name → helper, exactly the framework's custom set (`equalWithElse` is `equal`). */
export const FRAMEWORK_HELPERS = Object.freeze({
  equal,
  equalWithElse: equal,
  pathEncode,
  queryEncode,
  basicAuthHeaderValue,
  formatWithOffset,
});

/** Handlebars built-ins the framework's template language keeps. */
export const BUILTIN_HELPERS = Object.freeze(["if", "unless", "each", "with", "lookup"] as const);
