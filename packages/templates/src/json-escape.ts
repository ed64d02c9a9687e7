/**
 * The framework's escaping of the entry for a JSON template: a deep copy in which every string
 * is JSON-escaped (`JSON.stringify(s).slice(1, -1)`), so that `"{{{title.plainText}}}"` stays
 * one JSON string whatever the title holds. Only plain objects and arrays are copied, as in
 * the framework; numbers, booleans and null are kept as they are.
 */
export function escapeJsonStrings<T>(value: T): T {
  return escapeValue(value) as T;
}

// Characters JSON.stringify escapes: quote, backslash, controls, and lone surrogates (a paired
// surrogate matches too, and JSON.stringify then leaves it as it is).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

export function escapeJsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text).slice(1, -1) : text;
}

function escapeValue(value: unknown): unknown {
  if (typeof value === "string") return escapeJsonString(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(escapeValue);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const escaped = escapeValue((value as Record<string, unknown>)[key]);
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype.
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: escaped,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      copy[key] = escaped;
    }
  }
  return copy;
}
