import type { RichText } from "./types";

/**
 * The Markdown of audit-log titles and descriptions, rendered to plain text and to safe HTML the
 * way LaunchDarkly's template contexts show them (its `sample-context/` files are the reference):
 *
 *   blocks   paragraphs (not wrapped in <p>), `#` headings, `*`/`-`/`+` bullet lists (a blank line
 *            ends a list, so blank-separated items make one <ul> each), `>` quotes, also inside a
 *            list item; a line ending in two spaces is a hard break (<br/>).
 *   inline   `code`, [text](url), **strong**, ~~strike~~, backslash escapes.
 *   plain    code as 'code', links as their text, quote lines indented by two spaces.
 *
 * Anything else is text. All text is HTML-escaped; a link becomes <a> only for http, https,
 * mailto or a relative URL, otherwise only its text is kept. Every step is linear in the input:
 * no backtracking RegExp, closing delimiters found with cached forward searches.
 */
export function renderMarkdown(markdown: string): RichText {
  const html: string[] = [];
  const plain: string[] = [];
  for (const block of parseBlocks(markdown)) {
    switch (block.type) {
      case "paragraph":
        html.push(linesHtml(block.lines));
        plain.push(linesPlain(block.lines));
        break;
      case "heading": {
        const text = renderInline(block.text);
        html.push(`<h${block.level}>${text.html}</h${block.level}>`);
        plain.push(text.plain);
        break;
      }
      case "quote":
        html.push(`<blockquote>${linesHtml(block.lines)}</blockquote>`);
        plain.push(block.lines.map((line) => `  ${renderInline(withoutHardBreak(line)).plain}`).join("\n"));
        break;
      case "list":
        html.push(`<ul>${block.items.map(itemHtml).join("\n")}</ul>`);
        plain.push(block.items.map(itemPlain).join("\n"));
        break;
    }
  }
  return { plainText: plain.join("\n"), markdown, html: html.join("\n") };
}

interface ListItem {
  lines: string[];
  /** Lines of a `>` quote that continues the item (LaunchDarkly's way of showing a rule). */
  quote: string[];
}

type Block =
  | { type: "paragraph"; lines: string[] }
  | { type: "heading"; level: number; text: string }
  | { type: "quote"; lines: string[] }
  | { type: "list"; items: ListItem[] };

// Anchored, no nested quantifiers: each runs in time linear in the line.
const LIST_ITEM = /^ {0,3}[*+-][ \t]+/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+|$)/;
const QUOTE = /^ {0,3}> ?/;

function parseBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  const start = (block: Block): void => {
    blocks.push(block);
    open = block;
  };
  for (const raw of markdown.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") {
      // An empty line ends a list; an indented blank one (LaunchDarkly's after a quoted rule) does not.
      if (open?.type !== "list" || line === "") open = undefined;
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item !== null) {
      const next: ListItem = { lines: [line.slice(item[0].length)], quote: [] };
      if (open?.type === "list") open.items.push(next);
      else start({ type: "list", items: [next] });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading !== null) {
      const text = headingText(line.slice(heading[0].length));
      blocks.push({ type: "heading", level: heading[1]!.length, text });
      open = undefined;
      continue;
    }
    if (open?.type === "list") {
      const last = open.items[open.items.length - 1]!;
      const text = line.trimStart();
      if (last.quote.length > 0 || text.startsWith(">")) last.quote.push(withoutQuoteMarker(text));
      else last.lines.push(text);
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote !== null) {
      const text = line.slice(quote[0].length);
      if (open?.type === "quote") open.lines.push(text);
      else start({ type: "quote", lines: [text] });
    } else if (open?.type === "quote") {
      open.lines.push(line.trimStart()); // a lazy continuation of the quote
    } else if (open?.type === "paragraph") {
      open.lines.push(line);
    } else {
      start({ type: "paragraph", lines: [line] });
    }
  }
  return blocks;
}

/** Heading text without the optional closing `#`s (`## Title ##`), found without a RegExp. */
function headingText(text: string): string {
  const trimmed = text.trimEnd();
  let end = trimmed.length;
  while (end > 0 && trimmed.charCodeAt(end - 1) === HASH) end--;
  if (end === 0) return "";
  if (end === trimmed.length) return trimmed;
  const before = trimmed.charCodeAt(end - 1);
  return before === SPACE || before === TAB ? trimmed.slice(0, end).trimEnd() : trimmed;
}

function withoutQuoteMarker(text: string): string {
  if (!text.startsWith(">")) return text;
  return text.charCodeAt(1) === SPACE ? text.slice(2) : text.slice(1);
}

function hasHardBreak(line: string): boolean {
  return line.endsWith("  ");
}

function withoutHardBreak(line: string): string {
  return hasHardBreak(line) ? line.trimEnd() : line;
}

function linesHtml(lines: readonly string[]): string {
  let html = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1;
    if (hasHardBreak(line)) html += renderInline(line.trimEnd()).html + (last ? "" : "<br/>");
    else html += renderInline(line).html + (last ? "" : "\n");
  }
  return html;
}

function linesPlain(lines: readonly string[]): string {
  return lines.map((line) => renderInline(withoutHardBreak(line)).plain).join("\n");
}

function itemHtml(item: ListItem): string {
  const quote = item.quote.length === 0 ? "" : `<blockquote>${linesHtml(item.quote)}</blockquote>`;
  return `<li>${linesHtml(item.lines)}${quote}</li>`;
}

function itemPlain(item: ListItem): string {
  let plain = linesPlain(item.lines);
  if (item.quote.length > 0) {
    plain += "\n";
    for (const line of item.quote) plain += `  ${renderInline(withoutHardBreak(line)).plain}\n`;
  }
  return plain;
}

/** One line of inline Markdown as HTML and as plain text. */
export function renderInline(text: string): { html: string; plain: string } {
  const scan = new InlineScan(text);
  scan.run(0, text.length);
  return { html: scan.html, plain: scan.plain };
}

/**
 * Forward search for one delimiter with its last answer cached. Scans ask with non-decreasing
 * starts (nested spans lie before where the outer scan resumes), so each search covers new
 * ground and a whole line costs O(length) whatever its content.
 */
class Delimiter {
  private from = -1;
  private at = -1;

  constructor(
    private readonly text: string,
    private readonly token: string,
  ) {}

  /** Index of the token at or after `from` and before `end`, or -1. */
  next(from: number, end: number): number {
    if (this.from === -1 || from < this.from || (this.at !== -1 && this.at < from)) {
      this.from = from;
      this.at = this.text.indexOf(this.token, from);
    }
    return this.at !== -1 && this.at + this.token.length <= end ? this.at : -1;
  }
}

class InlineScan {
  html = "";
  plain = "";
  private readonly tick: Delimiter;
  private readonly strong: Delimiter;
  private readonly strike: Delimiter;
  private readonly linkMiddle: Delimiter;
  private readonly linkEnd: Delimiter;
  private readonly linkOpen: Delimiter;

  constructor(private readonly text: string) {
    this.tick = new Delimiter(text, "`");
    this.strong = new Delimiter(text, "**");
    this.strike = new Delimiter(text, "~~");
    this.linkMiddle = new Delimiter(text, "](");
    this.linkEnd = new Delimiter(text, ")");
    this.linkOpen = new Delimiter(text, "(");
  }

  run(start: number, end: number): void {
    const text = this.text;
    let plainFrom = start;
    let i = start;
    while (i < end) {
      const c = text.charCodeAt(i);
      let resume = -1;
      if (c === BACKSLASH && i + 1 < end && isAsciiPunctuation(text.charCodeAt(i + 1))) {
        this.flush(plainFrom, i);
        this.emit(text[i + 1]!);
        resume = i + 2;
      } else if (c === BACKTICK) {
        const close = this.tick.next(i + 1, end);
        if (close !== -1) {
          this.flush(plainFrom, i);
          const code = text.slice(i + 1, close);
          this.html += `<code>${escapeHtml(code)}</code>`;
          this.plain += `'${code}'`;
          resume = close + 1;
        }
      } else if ((c === STAR || c === TILDE) && text.charCodeAt(i + 1) === c) {
        const close = (c === STAR ? this.strong : this.strike).next(i + 2, end);
        if (close > i + 2) {
          const tag = c === STAR ? "strong" : "strike";
          this.flush(plainFrom, i);
          this.html += `<${tag}>`;
          this.run(i + 2, close);
          this.html += `</${tag}>`;
          resume = close + 2;
        }
      } else if (c === OPEN_BRACKET) {
        const middle = this.linkMiddle.next(i + 1, end);
        const close = middle === -1 ? -1 : this.urlEnd(middle + 2, end);
        if (close !== -1) {
          this.flush(plainFrom, i);
          const href = linkTarget(text.slice(middle + 2, close));
          if (href !== undefined) this.html += `<a href="${escapeHtml(href)}">`;
          this.run(i + 1, middle);
          if (href !== undefined) this.html += "</a>";
          resume = close + 1;
        }
      }
      if (resume === -1) i++;
      else i = plainFrom = resume;
    }
    this.flush(plainFrom, end);
  }

  /** The `)` closing a link's URL; one pair of parentheses may nest inside (`wiki/Foo_(bar)`). */
  private urlEnd(from: number, end: number): number {
    const close = this.linkEnd.next(from, end);
    if (close === -1) return -1;
    const open = this.linkOpen.next(from, end);
    const nested =
      open !== -1 && open < close && close + 1 < end && this.text.charCodeAt(close + 1) === CLOSE_PAREN;
    return nested ? close + 1 : close;
  }

  private flush(from: number, to: number): void {
    if (to > from) this.emit(this.text.slice(from, to));
  }

  private emit(text: string): void {
    this.html += escapeHtml(text);
    this.plain += text;
  }
}

/** The URL of `[text](url "title")` when it is safe to link to; undefined keeps only the text. */
function linkTarget(inside: string): string | undefined {
  const trimmed = inside.trim();
  let end = 0;
  while (end < trimmed.length && trimmed.charCodeAt(end) > SPACE) end++;
  const url = trimmed.slice(0, end);
  if (url === "") return undefined;
  // The URL ends at the first space or control character, so `java\tscript:x` links to "java";
  // DEL is the one control character left, and browsers skip it inside a scheme: so do we.
  let scheme = "";
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === DELETE) continue;
    if (c === COLON) return SAFE_SCHEMES.has(scheme.toLowerCase()) ? url : undefined;
    if (c === SLASH || c === QUESTION || c === HASH) return url; // relative: no scheme
    scheme += String.fromCharCode(c);
  }
  return url;
}

const SAFE_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "mailto"]);

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const HTML_SPECIAL = /[&<>"']/g;

export function escapeHtml(text: string): string {
  HTML_SPECIAL.lastIndex = 0;
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIAL, (c) => HTML_ESCAPES[c]!) : text;
}

function isAsciiPunctuation(c: number): boolean {
  return (
    (c >= 0x21 && c <= 0x2f) ||
    (c >= 0x3a && c <= 0x40) ||
    (c >= 0x5b && c <= 0x60) ||
    (c >= 0x7b && c <= 0x7e)
  );
}

const TAB = 0x09;
const SPACE = 0x20;
const HASH = 0x23;
const STAR = 0x2a;
const SLASH = 0x2f;
const COLON = 0x3a;
const QUESTION = 0x3f;
const CLOSE_PAREN = 0x29;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const BACKTICK = 0x60;
const TILDE = 0x7e;
const DELETE = 0x7f;
