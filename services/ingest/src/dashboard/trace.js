// Tracing an entry by id: what became of it at each hook (GET /v1/entries/:id).

import { $, api, HttpError } from "./api.js";
import { traceRows } from "./render.js";

// ── tracing an entry ─────────────────────────────────────────────────────────

$("trace-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("trace-input").value.trim();
  if (id === "") return;
  const summary = $("trace-summary");
  const table = $("trace-table");
  try {
    const trace = await api(`/v1/entries/${encodeURIComponent(id)}`);
    const counts = {};
    for (const hook of trace.hooks) counts[hook.outcome] = (counts[hook.outcome] ?? 0) + 1;
    const parts = Object.entries(counts).map(([outcome, n]) => `${n} ${outcome.replace("_", " ")}`);
    summary.textContent = `Entry ${trace.id}, accepted ${new Date(trace.acceptedAt).toLocaleString()}: ${parts.join(", ") || "no hook"}.`;
    summary.className = "trace-summary";
    $("trace-body").replaceChildren(...traceRows(trace));
    table.hidden = false;
  } catch (error) {
    summary.textContent = error instanceof HttpError ? error.message : `Could not trace it: ${error.message}`;
    summary.className = "trace-summary bad";
    table.hidden = true;
  }
  summary.hidden = false;
});
