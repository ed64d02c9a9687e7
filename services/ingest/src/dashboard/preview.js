// Previewing the exact request an integration would send for an entry (the preview route).

import { $, api } from "./api.js";
import { integrationOption, integrationOptions } from "./hook-form.js";
import { h } from "./render.js";

// ── previewing a request ─────────────────────────────────────────────────────

/** An entry to start from: a flag turned on in production, in the template context's shape. */
const SAMPLE_ENTRY = {
  _id: "preview-0001",
  kind: "flag",
  key: "checkout-redesign",
  name: "Checkout redesign",
  verbKind: "updateOn",
  timestamp: { milliseconds: 1764115200000 },
  title: { plainText: "Ada turned on the flag Checkout redesign in Production" },
  project: { key: "default", name: "Default", environment: { key: "production", name: "Production" } },
  accesses: [{ action: "updateOn", resource: "proj/default:env/production:flag/checkout-redesign" }],
};

let previewReady = false;

export async function loadIntegrations() {
  if (previewReady) return;
  $("preview-integration").replaceChildren(...(await integrationOptions()).map(integrationOption));
  if ($("preview-entry").value === "") $("preview-entry").value = JSON.stringify(SAMPLE_ENTRY, null, 2);
  previewReady = true;
}

function showProblems(items) {
  const list = $("preview-problems");
  list.replaceChildren(...items.map((text) => h("li", {}, text)));
  list.hidden = items.length === 0;
}

$("preview-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("preview-result").hidden = true;
  let entry;
  try {
    entry = JSON.parse($("preview-entry").value);
  } catch (error) {
    showProblems([`The entry is not JSON: ${error.message}`]);
    return;
  }
  const key = $("preview-integration").value;
  try {
    const preview = await api(`/v1/integrations/${encodeURIComponent(key)}/preview`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ entry }),
    });
    $("preview-line").textContent = `${preview.method} ${preview.url}`;
    $("preview-headers-body").replaceChildren(
      ...preview.headers.map((header) =>
        h(
          "tr",
          {},
          h("td", { "data-label": "Header" }, header.name),
          h("td", { "data-label": "Value", class: "mono" }, header.value),
        ),
      ),
    );
    $("preview-body").textContent =
      preview.body ?? "(no body: the template rendered empty, so nothing would be sent)";
    showProblems((preview.warnings ?? []).map((warning) => `Warning: ${warning}`));
    $("preview-result").hidden = false;
  } catch (error) {
    const problems = error.problems?.map((p) => `${p.pointer || "/"}: ${p.message}`) ?? [];
    showProblems([error.message, ...problems]);
  }
});
