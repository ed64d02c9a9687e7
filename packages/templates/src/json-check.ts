import { TemplateError } from "./errors";

/**
 * Where rendered JSON goes wrong. JSON.parse says whether the text is valid, fast; its messages
 * differ between Node versions and do not always give a position, so on failure this scanner
 * walks the text again to find the first bad character and say what was expected there.
 */
export interface JsonFault {
  /** 0-based offset of the first character that cannot be part of valid JSON. */
  position: number;
  /** 1-based. */
  line: number;
  column: number;
  /** What the scanner expected, e.g. `expected ',' or '}' after a property value`. */
  expected: string;
}

class Scanner {
  private at = 0;
  constructor(private readonly text: string) {}

  fault(): { position: number; expected: string } | undefined {
    try {
      this.space();
      this.value(0);
      this.space();
      if (this.at < this.text.length) return { position: this.at, expected: "the end of the text" };
      return undefined;
    } catch (failure) {
      if (failure instanceof Fault) return { position: failure.position, expected: failure.expected };
      throw failure;
    }
  }

  private fail(expected: string): never {
    throw new Fault(this.at, expected);
  }

  private space(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.at++;
    }
  }

  private value(depth: number): void {
    // Rendered JSON is small; the cap only keeps a pathological text off the call stack.
    if (depth > 1000) this.fail("less nesting (over 1000 levels)");
    const c = this.text[this.at];
    if (c === "{") this.object(depth);
    else if (c === "[") this.array(depth);
    else if (c === '"') this.string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) this.number();
    else this.literal(c);
  }

  private literal(c: string | undefined): void {
    for (const word of ["true", "false", "null"]) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return;
      }
    }
    this.fail(c === undefined ? "a value, found the end of the text" : "a value");
  }

  private object(depth: number): void {
    this.at++;
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return;
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail("a double-quoted property name");
      this.string();
      this.space();
      if (this.text[this.at] !== ":") this.fail("':' after a property name");
      this.at++;
      this.space();
      this.value(depth + 1);
      this.space();
      const c = this.text[this.at];
      if (c === "}") {
        this.at++;
        return;
      }
      if (c !== ",") this.fail("',' or '}' after a property value");
      this.at++;
      this.space();
    }
  }

  private array(depth: number): void {
    this.at++;
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.space();
      const c = this.text[this.at];
      if (c === "]") {
        this.at++;
        return;
      }
      if (c !== ",") this.fail("',' or ']' after an array element");
      this.at++;
      this.space();
    }
  }

  private string(): void {
    this.at++;
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c === 0x22) {
        this.at++;
        return;
      }
      if (c < 0x20) this.fail("no raw control character inside a string (escape it, e.g. \\n)");
      if (c === 0x5c) {
        const next = this.text[this.at + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) {
            this.fail("four hex digits after \\u");
          }
          this.at += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next))
          this.fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)');
        this.at += 2;
        continue;
      }
      this.at++;
    }
    this.fail("'\"' to close the string");
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(
      this.text.slice(this.at, this.at + 400),
    );
    if (match === null) this.fail("a number");
    this.at += match[0].length;
  }
}

class Fault {
  constructor(
    readonly position: number,
    readonly expected: string,
  ) {}
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < position; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: position - lineStart + 1 };
}

/** The first fault of `text` as JSON, or undefined when it is valid JSON. */
export function findJsonFault(text: string): JsonFault | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    const fault = new Scanner(text).fault() ?? { position: 0, expected: "valid JSON" };
    return { ...fault, ...lineAndColumn(text, fault.position) };
  }
}

/**
 * The text around `position` on one line, with `⟨here⟩` marking the fault. Any part of a
 * `secrets` value inside the window, even cut by its edge, shows as `[secret]`.
 */
export function jsonSnippet(
  text: string,
  position: number,
  secrets: readonly string[] = [],
  radius = 30,
): string {
  const start = Math.max(0, position - radius);
  const end = Math.min(text.length, position + radius);
  const hidden = new Uint8Array(end - start);
  for (const secret of secrets) {
    if (secret === "") continue;
    for (let i = text.indexOf(secret, Math.max(0, start - secret.length + 1)); i !== -1 && i < end; ) {
      for (let j = Math.max(i, start); j < Math.min(i + secret.length, end); j++) hidden[j - start] = 1;
      i = text.indexOf(secret, i + 1);
    }
  }
  let out = start > 0 ? "…" : "";
  for (let i = start; i < end; i++) {
    if (i === position) out += "⟨here⟩";
    if (hidden[i - start] === 1) {
      if (i === start || hidden[i - start - 1] !== 1 || i === position) out += "[secret]";
      continue;
    }
    const c = text[i] as string;
    out += c === "\n" ? "\\n" : c === "\r" ? "" : c;
  }
  if (position >= end) out += "⟨here⟩";
  return end < text.length ? `${out}…` : out;
}

/**
 * Throws TEMPLATES_ERR_INVALID_JSON when a JSON template's output is not JSON. Values in
 * `secrets` (form variables the template may print) are masked in the snippet; a function is
 * called only when there is a fault, so that valid output costs nothing more.
 */
export function assertRenderedJson(
  text: string,
  file: string,
  secrets: readonly string[] | (() => readonly string[]) = [],
): void {
  const fault = findJsonFault(text);
  if (fault === undefined) return;
  const snippet = jsonSnippet(text, fault.position, typeof secrets === "function" ? secrets() : secrets);
  throw new TemplateError(
    "TEMPLATES_ERR_INVALID_JSON",
    `${file} rendered invalid JSON at line ${fault.line}, column ${fault.column} (position ${fault.position}): expected ${fault.expected}: ${snippet}`,
    { file, line: fault.line, column: fault.column, position: fault.position, snippet },
  );
}
