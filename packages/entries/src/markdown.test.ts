import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { sampleContexts } from "./fixtures/corpus";
import { renderMarkdown } from "./markdown";
import type { RichText } from "./types";

test("the framework's sample contexts are there to render (required in CI)", (context) => {
  expectCorpus(context, "the Markdown corpus tests of @hookwire/entries");
  expect(sampleContexts().size).toBeGreaterThan(0);
});

describe.runIf(corpusDir !== undefined)("LaunchDarkly's own renderings in the sample contexts", () => {
  const cases: [string, RichText][] = [];
  for (const [name, sample] of sampleContexts()) {
    for (const field of ["title", "details"] as const)
      cases.push([`${name} ${field}`, sample[field] as RichText]);
  }

  test.each(cases)("%s renders the same plain text and HTML", (_name, text) => {
    expect(renderMarkdown(text.markdown)).toEqual(text);
  });
});

describe("renderMarkdown", () => {
  test.each<[string, string, string]>([
    ["", "", ""],
    ["plain & <simple>", "plain & <simple>", "plain &amp; &lt;simple&gt;"],
    ["`code` and `<b>`", "'code' and '<b>'", "<code>code</code> and <code>&lt;b&gt;</code>"],
    ["**bold** and ~~gone~~", "bold and gone", "<strong>bold</strong> and <strike>gone</strike>"],
    ["client\\-side \\*not bold\\*", "client-side *not bold*", "client-side *not bold*"],
    ["[a](https://x.test/a?b=1&c=2)", "a", '<a href="https://x.test/a?b=1&amp;c=2">a</a>'],
    ["[rel](/settings/projects)", "rel", '<a href="/settings/projects">rel</a>'],
    [
      "[wiki](https://w.test/Foo_(bar)) after",
      "wiki after",
      '<a href="https://w.test/Foo_(bar)">wiki</a> after',
    ],
    ['[t](https://x.test "title")', "t", '<a href="https://x.test">t</a>'],
    ["[`code` link](mailto:a@b.c)", "'code' link", '<a href="mailto:a@b.c"><code>code</code> link</a>'],
    [
      "unclosed `tick, **star, ~~tilde, [bracket](",
      "unclosed `tick, **star, ~~tilde, [bracket](",
      "unclosed `tick, **star, ~~tilde, [bracket](",
    ],
    ["## Heading ##", "Heading", "<h2>Heading</h2>"],
    ["# C# is a language", "C# is a language", "<h1>C# is a language</h1>"],
    ["#hashtag", "#hashtag", "#hashtag"],
    ["* one\n* two", "one\ntwo", "<ul><li>one</li>\n<li>two</li></ul>"],
    ["- one\n\n- two", "one\ntwo", "<ul><li>one</li></ul>\n<ul><li>two</li></ul>"],
    ["> quoted  \n> lines", "  quoted\n  lines", "<blockquote>quoted<br/>lines</blockquote>"],
    ["line one  \nline two", "line one\nline two", "line one<br/>line two"],
    ["para\r\nwith CRLF", "para\nwith CRLF", "para\nwith CRLF"],
  ])("%j", (markdown, plainText, html) => {
    expect(renderMarkdown(markdown)).toEqual({ markdown, plainText, html });
  });

  test.each([
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\u007fscript:alert(1)",
    "vbscript:msgbox",
    "data:text/html;base64,PHNjcmlwdD4=",
    "file:///etc/passwd",
  ])("a link to %j keeps only its text", (url) => {
    const { html, plainText } = renderMarkdown(`[click](${url})`);
    expect(html).toBe("click");
    expect(plainText).toBe("click");
  });

  test.each([
    ["java\tscript:alert(1)", "java"],
    ["javascript&#58;alert(1)", "javascript&amp;#58;alert(1)"],
  ])("a link to %j becomes a harmless relative link", (url, href) => {
    expect(renderMarkdown(`[click](${url})`).html).toBe(`<a href="${href}">click</a>`);
  });

  // Each is ~256 KiB, the longest string an entry may hold: quadratic work would take minutes.
  test.each([
    ["[](", "[]("],
    ["[", "["],
    ["`", "`a"],
    ["**", "**a"],
    ["~~", "~~a"],
    ["(", "[a](b("],
    ["\\", "\\"],
    ["#", "# #"],
    ["nested", "~~**[`"],
    ["list", "* a\n    > b  \n"],
  ])("stays linear on a hostile %s input", (_name, unit) => {
    const markdown = unit.repeat(Math.floor((256 * 1024) / unit.length));
    const started = performance.now();
    const { html } = renderMarkdown(markdown);
    expect(html.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test("never emits a tag or an attribute it did not make, whatever the input", () => {
    const allowedTag =
      /^<\/?(?:code|strong|strike|ul|li|blockquote|h[1-6])>|^<br\/>|^<a href="[^"<>]*">|^<\/a>/;
    const markdownish = fc.string({
      unit: fc.constantFrom(
        ..."<>&\"'`*~[]()\\#->: \n\tajvscript/=".split(""),
        "javascript:",
        "](",
        "**",
        "~~",
        "* ",
        "> ",
      ),
      maxLength: 80,
    });
    fc.assert(
      fc.property(fc.oneof(markdownish, fc.string()), (markdown) => {
        const { html } = renderMarkdown(markdown);
        for (let i = html.indexOf("<"); i !== -1; i = html.indexOf("<", i + 1)) {
          expect(html.slice(i)).toMatch(allowedTag);
        }
        for (const [, href] of html.matchAll(/<a href="([^"]*)">/g)) {
          expect(href!.replace(/[\s\u0000-\u001f]/g, "")).toMatch(/^(?:https?:|mailto:|[^:]*$|[^:]*[/?#])/i);
          expect(href).not.toMatch(/^\s*j\s*a\s*v\s*a/i);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
