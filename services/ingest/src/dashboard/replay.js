// Replaying a hook's failed deliveries since a time: the dry run's count first, then the replay.

import { $, api, changed, HttpError, toast } from "./api.js";

// ── replaying a hook's failed deliveries ─────────────────────────────────────

const replay = { hook: undefined, since: undefined, count: 0 };

/** A time as a datetime-local input shows it: local, to the minute. */
function localInputValue(ms) {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function openReplay(hook) {
  replay.hook = hook;
  $("replay-title").textContent = `Replay the failed deliveries of ${hook.name}`;
  $("replay-since").value = localInputValue(Date.now() - 24 * 3600e3);
  $("replay-result").textContent = "";
  $("replay-result").className = "replay-result";
  $("replay-confirm").hidden = true;
  $("replay-form").hidden = false;
  $("replay-since").focus();
}

function replayFailedWith(error) {
  $("replay-result").textContent =
    error instanceof HttpError && error.status === 403
      ? "Replaying needs a key with the admin scope: this key can only look."
      : `Could not replay: ${error.message}`;
  $("replay-result").className = "replay-result bad";
}

/** The replay call; `dryRun` counts only. */
function postReplay(dryRun) {
  return api(`/v1/hooks/${encodeURIComponent(replay.hook.id)}/replay`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ since: replay.since, dryRun }),
  });
}

// Counting first (a dry run), so the operator sees how many before anything is queued.
$("replay-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (replay.hook === undefined) return;
  replay.since = new Date($("replay-since").value).toISOString();
  $("replay-confirm").hidden = true;
  try {
    const { count } = await postReplay(true);
    replay.count = count;
    $("replay-result").textContent =
      count === 0
        ? "No failed delivery of this hook was accepted since then."
        : `${count} failed deliver${count === 1 ? "y" : "ies"} would be queued again.`;
    $("replay-result").className = "replay-result";
    $("replay-confirm").textContent = `Replay ${count}`;
    $("replay-confirm").hidden = count === 0;
  } catch (error) {
    replayFailedWith(error);
  }
});

$("replay-confirm").addEventListener("click", async () => {
  const button = $("replay-confirm");
  button.disabled = true;
  try {
    const { count } = await postReplay(false);
    toast(`${count} deliver${count === 1 ? "y" : "ies"} of ${replay.hook.name} queued again.`, "ok");
    $("replay-form").hidden = true;
    changed();
  } catch (error) {
    replayFailedWith(error);
  } finally {
    button.disabled = false;
  }
});

$("replay-cancel").addEventListener("click", () => {
  $("replay-form").hidden = true;
});
