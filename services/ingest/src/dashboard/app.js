// The dashboard: asks once for an API key (kept in this browser's localStorage), then reads
// /v1/stats, /v1/hooks' health (inside the stats) and the failed deliveries every few seconds.
// The panels an operator works in are modules of their own (hook-form, replay, delivery-panel,
// preview, trace); they say when they changed something (api.js' changed) and are read again.

import {
  $,
  adminOnly,
  api,
  changed,
  guardAdminButtons,
  HttpError,
  KEY_STORAGE,
  onChanged,
  PAGE,
  readOnlyReason,
  session,
  toast,
} from "./api.js";
import { LineChart } from "./chart.js";
import { openFromHash, openHookDeliveries, retry } from "./delivery-panel.js";
import { failureRows } from "./delivery-rows.js";
import { openHookForm } from "./hook-form.js";
import { loadIntegrations } from "./preview.js";
import {
  ago,
  alertBanners,
  formatAge,
  formatCount,
  formatMs,
  formatRate,
  hookRows,
  persistenceBadge,
  sortHooks,
} from "./render.js";
import { openReplay } from "./replay.js";
import "./trace.js";

const REFRESH_MS = 5_000;

const state = {
  timer: undefined,
  loading: false,
  lastOk: 0,
  /** The last stats, to draw the hooks again when more are asked for. */
  stats: undefined,
  hooksShown: PAGE,
  /** The failed deliveries: the first page, read again at every refresh, and the pages after it. */
  failed: { first: [], more: [], cursor: undefined },
};

const palette = () => {
  const css = getComputedStyle(document.documentElement);
  const get = (name) => css.getPropertyValue(name).trim();
  return {
    ok: get("--ok"),
    bad: get("--bad"),
    p50: get("--c1"),
    p95: get("--c2"),
    p99: get("--c3"),
    wait: get("--c1"),
    delayed: get("--c2"),
    active: get("--c4"),
  };
};

const colors = palette();
const charts = {
  throughput: new LineChart($("chart-throughput"), {
    series: [
      { key: "succeeded", label: "succeeded", color: colors.ok, fill: true },
      { key: "failed", label: "failed", color: colors.bad, fill: true },
    ],
    format: (v) => `${formatRate(v)}/s`,
    emptyText: "no deliveries in the last hour",
  }),
  latency: new LineChart($("chart-latency"), {
    series: [
      { key: "p50", label: "p50", color: colors.p50 },
      { key: "p95", label: "p95", color: colors.p95 },
      { key: "p99", label: "p99", color: colors.p99 },
    ],
    format: formatMs,
    emptyText: "no successful deliveries in the last hour",
  }),
  queue: new LineChart($("chart-queue"), {
    series: [
      { key: "waiting", label: "waiting", color: colors.wait, fill: true },
      { key: "delayed", label: "delayed", color: colors.delayed },
      { key: "active", label: "active", color: colors.active },
    ],
    format: (v) => formatCount(v),
    integer: true,
    emptyText: "no queue samples yet",
  }),
};

// ── the key ──────────────────────────────────────────────────────────────────

function askForKey(message) {
  stopRefreshing();
  $("key-message").textContent = message ?? "";
  $("key-message").hidden = !message;
  $("key-dialog").hidden = false;
  $("key-input").value = "";
  $("key-input").focus();
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (key === "") return;
  session.key = key;
  session.scopes = undefined;
  localStorage.setItem(KEY_STORAGE, key);
  $("key-dialog").hidden = true;
  void refresh();
  openFromHash();
});

$("forget-key").addEventListener("click", () => {
  localStorage.removeItem(KEY_STORAGE);
  session.key = "";
  askForKey();
});

// ── refreshing ───────────────────────────────────────────────────────────────

function stopRefreshing() {
  clearTimeout(state.timer);
  state.timer = undefined;
}

function schedule() {
  stopRefreshing();
  if (!document.hidden && session.key !== "") state.timer = setTimeout(refresh, REFRESH_MS);
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) stopRefreshing();
  else void refresh();
});

function setStatus(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

async function refresh() {
  if (session.key === "") {
    askForKey();
    return;
  }
  if (state.loading) {
    // A change was made while the figures were being read: read them again once they are in.
    state.again = true;
    return;
  }
  state.loading = true;
  try {
    const [stats, failed, key] = await Promise.all([
      api("/v1/stats"),
      api(`/v1/deliveries?status=failed&limit=${PAGE}`),
      session.scopes === undefined ? api("/v1/key") : undefined,
    ]);
    if (key !== undefined) session.scopes = key.scopes;
    state.lastOk = Date.now();
    loadIntegrations().catch(() => undefined);
    state.failed.first = failed.deliveries;
    // Until a later page is asked for, the next one starts after this first page.
    if (state.failed.more.length === 0) state.failed.cursor = failed.nextCursor;
    render(stats);
    setStatus("live", "ok");
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
      askForKey(
        error.status === 401
          ? "That key was not accepted. Paste a key with the read scope."
          : "That key lacks the read scope this page needs.",
      );
      return;
    }
    const since = state.lastOk === 0 ? "" : ` · data from ${ago(state.lastOk)}`;
    setStatus(`cannot reach hookwire${since}`, "bad");
  } finally {
    state.loading = false;
    if (!$("key-dialog").hidden) stopRefreshing();
    else if (state.again) {
      state.again = false;
      void refresh();
    } else schedule();
  }
}

// ── rendering ────────────────────────────────────────────────────────────────

function render(stats) {
  state.stats = stats;
  const now = Date.parse(stats.generatedAt);
  const { totals, latencyMs, queue, hooks } = stats;
  const settled = totals.deliveries.succeeded + totals.deliveries.failed;
  const successRate = settled === 0 ? null : (totals.deliveries.succeeded / settled) * 100;
  // The current minute has only begun: the rate "now" spans it and the whole minute before.
  const recent = stats.minutes.slice(-2);
  const recentSeconds = recent.reduce((sum, m) => sum + m.seconds, 0);
  const recentCount = recent.reduce((sum, m) => sum + m.deliveries.succeeded + m.deliveries.failed, 0);
  const perSecond = recentSeconds === 0 ? 0 : recentCount / recentSeconds;
  const counts = { healthy: 0, failing: 0, circuit_open: 0, disabled: 0 };
  for (const hook of hooks) {
    if (hook.state !== "enabled") counts[hook.state] = (counts[hook.state] ?? 0) + 1;
    else if (hook.health.consecutiveFailures > 0) counts.failing++;
    else counts.healthy++;
  }

  $("alerts").replaceChildren(...alertBanners(stats));
  const badge = persistenceBadge(stats.redis?.persistence);
  const redisBadge = $("redis-persistence");
  redisBadge.textContent = badge.text;
  redisBadge.title = badge.title;
  redisBadge.className = `badge ${badge.tone}`;
  redisBadge.hidden = badge.text === "";

  setFigure("kpi-delivered", formatCount(totals.deliveries.succeeded), `${formatRate(perSecond)}/s now`);
  setFigure(
    "kpi-failed",
    formatCount(totals.deliveries.failed),
    successRate === null
      ? "nothing settled yet"
      : `${successRate.toFixed(successRate >= 99.95 || successRate === 0 ? 0 : 1)}% succeeded`,
    totals.deliveries.failed > 0 ? "bad" : "",
  );
  setFigure(
    "kpi-latency",
    formatMs(latencyMs.endToEnd?.p95),
    latencyMs.endToEnd
      ? `p50 ${formatMs(latencyMs.endToEnd.p50)} · p99 ${formatMs(latencyMs.endToEnd.p99)}`
      : "no successes yet",
  );
  // Ordered hooks' deliveries wait in their sequences, not in the queue's jobs.
  const ordered = hooks.reduce((sum, hook) => sum + (hook.orderedWaiting ?? 0), 0);
  setFigure(
    "kpi-queue",
    formatCount(queue.jobs.waiting + queue.jobs.prioritized),
    `${formatCount(queue.jobs.delayed)} delayed · oldest ${formatAge(queue.oldestWaitingAgeSeconds)}` +
      (ordered > 0 ? ` · ${formatCount(ordered)} in order` : ""),
    queue.oldestWaitingAgeSeconds > 60 ? "warn" : "",
  );
  setFigure(
    "kpi-hooks",
    `${counts.healthy}/${hooks.length}`,
    `${counts.failing} failing · ${counts.circuit_open} circuit open · ${counts.disabled} off`,
    counts.circuit_open > 0 ? "bad" : counts.failing > 0 ? "warn" : "",
  );

  const at = (m) => Date.parse(m.at);
  charts.throughput.update(
    stats.minutes.map((m) => ({
      t: at(m),
      values: { succeeded: m.deliveries.succeeded / m.seconds, failed: m.deliveries.failed / m.seconds },
    })),
  );
  charts.latency.update(
    stats.minutes.map((m) => ({
      t: at(m),
      values: { p50: m.latencyMs?.p50 ?? null, p95: m.latencyMs?.p95 ?? null, p99: m.latencyMs?.p99 ?? null },
    })),
  );
  // Past minutes show what a worker sampled; the current one shows the queue right now.
  charts.queue.update(
    stats.minutes.map((m, i) => {
      const sample = i === stats.minutes.length - 1 ? queue.jobs : m.queue;
      return {
        t: at(m),
        values: sample
          ? {
              waiting: (sample.waiting ?? 0) + (sample.prioritized ?? 0),
              delayed: sample.delayed ?? 0,
              active: sample.active ?? 0,
            }
          : { waiting: null, delayed: null, active: null },
      };
    }),
  );

  renderHooks();
  renderFailed();
  $("updated").textContent = `updated ${new Date(now).toLocaleTimeString()}`;
}

/**
 * The hooks, a page at a time. The stats hold every hook with its health and its last hour (the
 * figures count them, and the table puts the failing first, which no page of GET /v1/hooks, in
 * creation order, could), so the pages here are the table's own. Hooks are configuration, held
 * in memory by every service; the deliveries are what no list here loads whole.
 */
function renderHooks() {
  const { hooks } = state.stats;
  const sorted = sortHooks(hooks);
  const shown = sorted.slice(0, state.hooksShown);
  const readOnly = readOnlyReason();
  $("hooks-body").replaceChildren(
    ...hookRows(shown, Date.parse(state.stats.generatedAt), {
      edit: openHookForm,
      replay: openReplay,
      deliveries: openHookDeliveries,
      toggle: toggleHook,
      releaseHeld,
      readOnly,
    }),
  );
  guardAdminButtons();
  $("hooks-read-only").hidden = readOnly === undefined;
  $("hooks-count").textContent = String(hooks.length);
  $("hooks-more-row").hidden = shown.length >= sorted.length;
  $("hooks-shown").textContent = `${shown.length} of ${sorted.length} shown`;
}

$("hooks-more").addEventListener("click", () => {
  state.hooksShown += PAGE;
  renderHooks();
});

/** The failed deliveries: the first page, then those "More" brought, each once. */
function renderFailed() {
  const { first, more, cursor } = state.failed;
  const ids = new Set(first.map((delivery) => delivery.id));
  const rows = [...first, ...more.filter((delivery) => !ids.has(delivery.id))];
  const names = new Map(state.stats.hooks.map((hook) => [hook.id, hook.name]));
  $("failed-body").replaceChildren(...failureRows(rows, names, Date.parse(state.stats.generatedAt), retry));
  $("failed-count").textContent = `${rows.length}${cursor ? "+" : ""}`;
  $("failed-more-row").hidden = cursor === undefined;
  $("failed-shown").textContent = `${rows.length} shown`;
  guardAdminButtons();
}

$("failed-more").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const cursor = state.failed.cursor;
  if (cursor === undefined) return;
  button.disabled = true;
  try {
    const page = await api(`/v1/deliveries?status=failed&limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`);
    state.failed.more.push(...page.deliveries);
    state.failed.cursor = page.nextCursor;
    renderFailed();
  } catch (error) {
    toast(`Could not read more: ${error.message}`, "bad");
  } finally {
    button.disabled = false;
  }
});

/** A hook's on/off switch: PATCH its `on`, then the figures again. */
async function toggleHook(hook, input) {
  const on = input.checked;
  input.disabled = true;
  try {
    await api(`/v1/hooks/${encodeURIComponent(hook.id)}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ on }),
    });
    toast(`Hook ${hook.name} turned ${on ? "on" : "off"}.`, "ok");
    changed();
  } catch (error) {
    input.checked = !on;
    input.disabled = false;
    toast(adminOnly(error, "Turning a hook on or off") ?? `Could not change it: ${error.message}`, "bad");
  }
}

/** An ordered hook held by a delivery: send that one again, or skip it (it stays a dead letter). */
async function releaseHeld(hook, step, button) {
  button.disabled = true;
  try {
    await api(`/v1/hooks/${encodeURIComponent(hook.id)}/ordering/${step}`, { method: "POST" });
    toast(
      step === "retry"
        ? `The delivery holding ${hook.name} is sent again.`
        : `The delivery holding ${hook.name} is skipped; the next follows.`,
      "ok",
    );
    changed();
  } catch (error) {
    button.disabled = false;
    toast(adminOnly(error, "Letting a held hook go on") ?? `Could not do it: ${error.message}`, "bad");
  }
}

function setFigure(id, value, note, tone = "") {
  const card = $(id);
  card.querySelector(".value").textContent = value;
  card.querySelector(".note").textContent = note;
  card.dataset.tone = tone;
}

onChanged(() => void refresh());

if (session.key === "") askForKey();
else {
  void refresh();
  openFromHash();
}
