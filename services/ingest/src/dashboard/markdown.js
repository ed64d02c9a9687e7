// An integration's Markdown description, as the API renders it (GET /v1/integrations/:key's
// descriptionHtml: LaunchDarkly's dialect, rendered by the entries package, every text escaped).
// The page never puts that markup in as markup: it is parsed in an inert document (no script
// runs, nothing loads) and copied here element by element, only the elements the renderer makes,
// with no attribute but a link's web address. Anything else keeps its text and nothing more.

const ALLOWED = new Set([
  "H1",
  "H2",
  "H3",
  "H4",
  "H5",
  "H6",
  "UL",
  "LI",
  "BLOCKQUOTE",
  "CODE",
  "STRONG",
  "STRIKE",
  "BR",
  "A",
]);

/** A link target the page follows: http, https or mailto; any other is dropped, its text kept. */
const SAFE_HREF = /^(https?:|mailto:)/i;

/** The description's nodes, to append where it is shown. */
export function markdownNodes(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  return [...parsed.body.childNodes].flatMap(copy);
}

function copy(node) {
  if (node.nodeType === Node.TEXT_NODE) return [document.createTextNode(node.textContent ?? "")];
  if (node.nodeType !== Node.ELEMENT_NODE) return [];
  const children = [...node.childNodes].flatMap(copy);
  if (!ALLOWED.has(node.tagName)) return children;
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_HREF.test(href)) return children;
    const link = document.createElement("a");
    link.href = href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.append(...children);
    return [link];
  }
  // Headings inside a form's description sit under its h3: shown as strong lines, not outline.
  const tag = /^H[1-6]$/.test(node.tagName) ? "strong" : node.tagName.toLowerCase();
  const element = document.createElement(tag);
  if (tag === "strong" && node.tagName !== "STRONG") element.className = "md-heading";
  element.append(...children);
  return [element];
}
