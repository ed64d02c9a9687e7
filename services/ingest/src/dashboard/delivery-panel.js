// A delivery opened (#delivery=<id>): its attempts with the request each sent, and Retry; and a
// hook's deliveries, a page at a time by the API's cursor.

import { $, api, changed, guardAdmin, HttpError, PAGE, session, toast } from "./api.js";
import { attemptRows, deliveryRows } from "./delivery-rows.js";

export async function retry(delivery, button) {
  button.disabled = true;
  button.textContent = "Retrying…";
  try {
    await api(`/v1/deliveries/${encodeURIComponent(delivery.id)}/retry`, { method: "POST" });
    toast(`Delivery ${delivery.id} queued again.`, "ok");
    changed();
  } catch (error) {
    const message =
      error instanceof HttpError && error.status === 403
        ? "Retrying needs a key with the admin scope."
        : `Could not retry: ${error.message}`;
    toast(message, "bad");
    button.disabled = false;
    button.textContent = "Retry";
  }
}

// ── a delivery, opened (#delivery=<id>) ──────────────────────────────────────

let opened;

async function openDelivery(id) {
  const panel = $("delivery-panel");
  $("delivery-title").textContent = `Delivery ${id}`;
  const retryButton = $("delivery-retry");
  retryButton.hidden = true;
  $("delivery-entry").hidden = true;
  guardAdmin(retryButton);
  retryButton.textContent = "Retry";
  panel.hidden = false;
  $("delivery-note").textContent = "";
  try {
    const path = `/v1/deliveries/${encodeURIComponent(id)}`;
    const [delivery, sent] = await Promise.all([
      api(path),
      // Its requests are rebuilt from the hook: none to show once the hook is deleted (the
      // answer's message says why, below the attempts).
      api(`${path}/request`).catch((error) => ({ unavailable: error.message })),
    ]);
    opened = delivery;
    const parts = [
      `${delivery.status}`,
      `hook ${delivery.hookId}`,
      `entry ${delivery.entryId}`,
      `accepted ${new Date(delivery.acceptedAt).toLocaleString()}`,
    ];
    if (delivery.reason) parts.push(delivery.reason);
    $("delivery-summary").textContent = `${parts.join(" · ")}.`;
    $("delivery-summary").className = "trace-summary";
    const requests = new Map((sent.requests ?? []).map((request) => [request.attempt, request]));
    $("delivery-body").replaceChildren(...attemptRows(delivery, Date.now(), requests));
    $("delivery-note").textContent =
      sent.unavailable === undefined
        ? requestNote(sent)
        : `The requests it sent cannot be shown: ${sent.unavailable}`;
    $("delivery-table").hidden = false;
    $("delivery-retry").hidden = delivery.status !== "failed";
    $("delivery-entry").hidden = false;
  } catch (error) {
    opened = undefined;
    $("delivery-summary").textContent =
      error instanceof HttpError ? error.message : `Could not open it: ${error.message}`;
    $("delivery-summary").className = "trace-summary bad";
    $("delivery-table").hidden = true;
  }
  panel.scrollIntoView({ block: "nearest" });
}

/** What the requests shown are, and whether this integration's error answers are kept. */
function requestNote(sent) {
  const bodies = sent.keepsErrorBody
    ? "Error answers' bodies are kept for this integration (secrets in them blanked)."
    : "Error answers' bodies are not kept for this integration: its URL's host is not fixed and private networks are not blocked, so an answer could be an internal service's.";
  return `${sent.note} ${bodies}`;
}

// ── a hook's deliveries, a page at a time ────────────────────────────────────

const hookDeliveries = { hook: undefined, rows: [], cursor: undefined };

/** The next page of the hook's deliveries (the first when `first`), by the API's cursor. */
async function loadHookDeliveries(first) {
  const { hook } = hookDeliveries;
  const query = new URLSearchParams({ hookId: hook.id, limit: String(PAGE) });
  if (!first) query.set("cursor", hookDeliveries.cursor);
  const page = await api(`/v1/deliveries?${query}`);
  if (hookDeliveries.hook !== hook) return;
  if (first) hookDeliveries.rows = [];
  hookDeliveries.rows.push(...page.deliveries);
  hookDeliveries.cursor = page.nextCursor;
  const { rows, cursor } = hookDeliveries;
  $("hook-deliveries-body").replaceChildren(...deliveryRows(rows, Date.now()));
  $("hook-deliveries-summary").textContent = `${rows.length}${cursor ? "+" : ""} kept, newest first.`;
  $("hook-deliveries-more-row").hidden = cursor === undefined;
  $("hook-deliveries-shown").textContent = `${rows.length} shown`;
}

export async function openHookDeliveries(hook) {
  hookDeliveries.hook = hook;
  hookDeliveries.cursor = undefined;
  $("hook-deliveries-title").textContent = `Deliveries of ${hook.name}`;
  $("hook-deliveries-body").replaceChildren();
  $("hook-deliveries-more-row").hidden = true;
  $("hook-deliveries-summary").textContent = "Reading…";
  $("hook-deliveries-panel").hidden = false;
  $("hook-deliveries-panel").scrollIntoView({ block: "nearest" });
  try {
    await loadHookDeliveries(true);
  } catch (error) {
    $("hook-deliveries-summary").textContent = `Could not read them: ${error.message}`;
  }
}

$("hook-deliveries-more").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (hookDeliveries.cursor === undefined) return;
  button.disabled = true;
  try {
    await loadHookDeliveries(false);
  } catch (error) {
    toast(`Could not read more: ${error.message}`, "bad");
  } finally {
    button.disabled = false;
  }
});

$("hook-deliveries-close").addEventListener("click", () => {
  hookDeliveries.hook = undefined;
  $("hook-deliveries-panel").hidden = true;
});

export function openFromHash() {
  const match = /^#delivery=(.+)$/.exec(location.hash);
  if (match && session.key !== "") void openDelivery(decodeURIComponent(match[1]));
}

window.addEventListener("hashchange", openFromHash);

// Its entry, traced below: what became of it at every hook, this one among them.
$("delivery-entry").addEventListener("click", () => {
  if (opened === undefined) return;
  $("trace-input").value = opened.entryId;
  $("trace-form").requestSubmit();
  $("trace-title").scrollIntoView({ block: "start" });
});

$("delivery-close").addEventListener("click", () => {
  $("delivery-panel").hidden = true;
  history.replaceState(null, "", location.pathname);
});

$("delivery-retry").addEventListener("click", async (event) => {
  if (opened === undefined) return;
  await retry(opened, event.currentTarget);
  void openDelivery(opened.id);
});
