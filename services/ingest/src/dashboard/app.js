// The dashboard: asks once for an API key (kept in this browser's localStorage), then reads
// /v1/stats, /v1/hooks' health (inside the stats) and the failed deliveries every few seconds.

import { LineChart } from "./chart.js";
import { attemptRows, deliveryRows, failureRows } from "./delivery-rows.js";
import {
  connectionState,
  fillDelivery,
  fillOAuth,
  readDelivery,
  readOAuth,
  showGrant,
  variableFields,
} from "./hook-fields.js";
import { markdownNodes } from "./markdown.js";
import {
  ago,
  alertBanners,
  formatAge,
  formatCount,
  formatMs,
  formatRate,
  h,
  hookRows,
  persistenceBadge,
  sortHooks,
  traceRows,
} from "./render.js";

const KEY_STORAGE = "hookwire.apiKey";
const REFRESH_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Rows a list shows at first, and how many more each "More" adds. */
const PAGE = 20;

const $ = (id) => document.getElementById(id);

const state = {
  key: localStorage.getItem(KEY_STORAGE) ?? "",
  timer: undefined,
  loading: false,
  lastOk: 0,
  /** The key's scopes (GET /v1/key), asked once per key. */
  scopes: undefined,
  /** The last stats, to draw the hooks again when more are asked for. */
  stats: undefined,
  hooksShown: PAGE,
  /** The failed deliveries: the first page, read again at every refresh, and the pages after it. */
  failed: { first: [], more: [], cursor: undefined },
};

/** Why this key cannot change anything, or undefined when it can (an admin key). */
function readOnlyReason() {
  if (state.scopes === undefined || state.scopes.includes("admin")) return undefined;
  return "This key can only look: this needs a key with the admin scope.";
}

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

class HttpError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

async function api(path, init = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      ...init,
      signal: controller.signal,
      headers: { accept: "application/json", authorization: `Bearer ${state.key}`, ...(init.headers ?? {}) },
    });
    const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (!response.ok)
      throw new HttpError(
        response.status,
        body?.error?.message ?? `HTTP ${response.status}`,
        body?.error?.problems,
      );
    return body;
  } finally {
    clearTimeout(timer);
  }
}

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
  state.key = key;
  state.scopes = undefined;
  localStorage.setItem(KEY_STORAGE, key);
  $("key-dialog").hidden = true;
  void refresh();
  openFromHash();
});

$("forget-key").addEventListener("click", () => {
  localStorage.removeItem(KEY_STORAGE);
  state.key = "";
  askForKey();
});

// ── refreshing ───────────────────────────────────────────────────────────────

function stopRefreshing() {
  clearTimeout(state.timer);
  state.timer = undefined;
}

function schedule() {
  stopRefreshing();
  if (!document.hidden && state.key !== "") state.timer = setTimeout(refresh, REFRESH_MS);
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
  if (state.key === "") {
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
      state.scopes === undefined ? api("/v1/key") : undefined,
    ]);
    if (key !== undefined) state.scopes = key.scopes;
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
  setFigure(
    "kpi-queue",
    formatCount(queue.jobs.waiting + queue.jobs.prioritized),
    `${formatCount(queue.jobs.delayed)} delayed · oldest ${formatAge(queue.oldestWaitingAgeSeconds)}`,
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
 * The hooks, a page at a time. The stats hold every hook (their health is what the figures
 * count), so the pages here are only the table's: GET /v1/hooks has no cursor to ask for fewer.
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
      readOnly,
    }),
  );
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
    void refresh();
  } catch (error) {
    input.checked = !on;
    input.disabled = false;
    toast(adminOnly(error, "Turning a hook on or off") ?? `Could not change it: ${error.message}`, "bad");
  }
}

function setFigure(id, value, note, tone = "") {
  const card = $(id);
  card.querySelector(".value").textContent = value;
  card.querySelector(".note").textContent = note;
  card.dataset.tone = tone;
}

async function retry(delivery, button) {
  button.disabled = true;
  button.textContent = "Retrying…";
  try {
    await api(`/v1/deliveries/${encodeURIComponent(delivery.id)}/retry`, { method: "POST" });
    toast(`Delivery ${delivery.id} queued again.`, "ok");
    void refresh();
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

// ── a hook, made or changed ──────────────────────────────────────────────────

/** The form's hook and integration; `opened` and `shown` count the openings and drawings, so a late answer is dropped. */
const form = { hook: undefined, integration: undefined, defaultPolicy: "", opened: 0, shown: 0 };

let deliverable;

/** The integrations hooks can be made of, asked once (again only after a failure). */
function integrationOptions() {
  deliverable ??= api("/v1/integrations").then(
    ({ integrations }) => integrations.filter((integration) => integration.deliverable),
    (error) => {
      deliverable = undefined;
      throw error;
    },
  );
  return deliverable;
}

/** An integration as a choice: its name, and its key. */
function integrationOption(integration) {
  return h("option", { value: integration.key }, `${integration.name} (${integration.key})`);
}

/**
 * Draws the fields of an integration (with a hook's values). Only the last one asked for is
 * drawn: an answer that comes after a later choice's is dropped (false).
 */
async function showIntegration(key, hook) {
  const asked = ++form.shown;
  const integration = await api(`/v1/integrations/${encodeURIComponent(key)}`);
  if (asked !== form.shown) return false;
  form.integration = integration;
  form.defaultPolicy = JSON.stringify(integration.defaultPolicy, null, 2);
  $("hook-integration-overview").textContent = integration.overview;
  $("hook-description").replaceChildren(...markdownNodes(integration.descriptionHtml ?? ""));
  $("hook-variables").replaceChildren(
    h("legend", {}, "Form variables"),
    ...variableFields(integration.formVariables, hook?.formVariables),
  );
  fillDelivery(hook?.delivery);
  $("hook-oauth").hidden = !integration.requiresOAuth;
  if (integration.requiresOAuth) fillOAuth(hook?.oauth);
  showConnection();
  $("hook-policy").value = hook?.policy ? JSON.stringify(hook.policy, null, 2) : form.defaultPolicy;
  return true;
}

/** The Connect button of an authorization_code hook, once it is saved, and whether it holds a token. */
function showConnection() {
  const oauth = form.integration?.requiresOAuth ? form.hook?.oauth : undefined;
  const connectable = oauth?.grant === "authorization_code";
  $("hook-oauth-connect").hidden = !connectable;
  $("hook-oauth-state").textContent = connectable
    ? connectionState(oauth)
    : $("hook-oauth-grant").value === "authorization_code"
      ? "Save the hook, then Connect it: the provider asks you to consent."
      : "";
}

$("hook-oauth-grant").addEventListener("change", () => {
  showGrant();
  showConnection();
});

// The provider's page needs the browser itself: the API gives its URL (with a state it keeps for
// the callback), and the browser goes there; the provider sends it back to /v1/oauth/callback.
$("hook-oauth-connect").addEventListener("click", async () => {
  if (form.hook === undefined) return;
  try {
    const { authorizeUrl } = await api(`/v1/hooks/${encodeURIComponent(form.hook.id)}/oauth/start`, {
      method: "POST",
    });
    location.assign(authorizeUrl);
  } catch (error) {
    $("hook-oauth-state").textContent =
      adminOnly(error, "Connecting a hook") ?? `Could not connect it: ${error.message}`;
  }
});

function clearProblems() {
  for (const element of document.querySelectorAll("#hook-form .field-problem")) {
    element.textContent = "";
    element.hidden = true;
  }
  $("hook-problems").hidden = true;
  $("hook-result").textContent = "";
  $("hook-result").className = "replay-result";
}

/**
 * Each problem beside the field its pointer names (the field of the longest pointer that holds
 * it: /oauth/tokenUrl beside the token URL, /oauth beside the connection), the rest below.
 */
function showHookProblems(error) {
  const rest = [];
  const fields = [...document.querySelectorAll("#hook-form .field-problem")].filter(
    // Not those of fields not shown (another grant's); a problem's own element is hidden until used.
    (element) => !element.parentElement.closest("[hidden]"),
  );
  for (const problem of error.problems ?? []) {
    // The API names a hook's fields from the body's root; a pointer of the field itself may follow.
    const pointer = problem.pointer;
    const field = fields
      .filter(
        (element) => pointer === element.dataset.pointer || pointer.startsWith(`${element.dataset.pointer}/`),
      )
      .sort((a, b) => b.dataset.pointer.length - a.dataset.pointer.length)[0];
    if (field) {
      field.textContent = field.textContent ? `${field.textContent} · ${problem.message}` : problem.message;
      field.hidden = false;
    } else rest.push(`${problem.pointer || "/"}: ${problem.message}`);
  }
  const list = $("hook-problems");
  list.replaceChildren(...[error.message, ...rest].map((text) => h("li", {}, text)));
  list.hidden = false;
}

async function openHookForm(hook) {
  // "loading" until the hook and its integration are in the fields: what is typed before is lost.
  $("hook-form").dataset.state = "loading";
  const opening = ++form.opened;
  form.hook = hook;
  clearProblems();
  const editing = hook !== undefined;
  $("hook-form-title").textContent = editing ? `Edit ${hook.name}` : "New hook";
  $("hook-save").textContent = editing ? "Save" : "Create";
  $("hook-test").hidden = !editing;
  $("hook-delete").hidden = !editing;
  $("hook-integration-field").hidden = editing;
  try {
    if (editing) {
      // The stats' hook is a summary: the form needs the hook itself (secrets shown as ********).
      const stored = await api(`/v1/hooks/${encodeURIComponent(hook.id)}`);
      // Another hook's Edit, or New, was pressed meanwhile: that one fills the form.
      if (opening !== form.opened) return;
      form.hook = stored;
      $("hook-name").value = stored.name;
      $("hook-on").checked = stored.on;
      if (!(await showIntegration(stored.integration, stored))) return;
    } else {
      const integrations = await integrationOptions();
      if (opening !== form.opened) return;
      $("hook-integration").replaceChildren(...integrations.map(integrationOption));
      $("hook-name").value = "";
      $("hook-on").checked = true;
      if (!(await showIntegration($("hook-integration").value))) return;
    }
    $("hook-form").hidden = false;
    $("hook-form").dataset.state = "ready";
    $("hook-name").focus();
  } catch (error) {
    toast(`Could not open the form: ${error.message}`, "bad");
  }
}

$("hook-new").addEventListener("click", () => void openHookForm(undefined));
$("hook-integration").addEventListener("change", async () => {
  $("hook-form").dataset.state = "loading";
  if (!(await showIntegration($("hook-integration").value))) return;
  $("hook-form").hidden = false;
  $("hook-form").dataset.state = "ready";
});
$("hook-cancel").addEventListener("click", () => {
  $("hook-form").hidden = true;
});

/** A problem found before anything is sent, with its pointer, shown as the API's are. */
class FormProblems extends Error {
  constructor(problems) {
    super("the hook is invalid");
    this.problems = problems;
  }
}

/**
 * The body of the create or change: only the form variables given, the policy when not the
 * default, the delivery settings over the stored ones, the OAuth settings where required.
 */
function hookBody() {
  const formVariables = {};
  for (const input of document.querySelectorAll("#hook-variables [data-key]")) {
    const key = input.dataset.key;
    if (input.type === "checkbox") formVariables[key] = input.checked;
    else if (input.value !== "") formVariables[key] = input.value;
  }
  const body = { name: $("hook-name").value.trim(), on: $("hook-on").checked, formVariables };
  const problems = [];
  const policy = $("hook-policy").value.trim();
  if (policy === "" || policy === form.defaultPolicy.trim()) body.policy = null;
  else {
    try {
      body.policy = JSON.parse(policy);
    } catch (error) {
      problems.push({ pointer: "/policy", message: `not JSON: ${error.message}` });
    }
  }
  const { delivery, problems: deliveryProblems } = readDelivery(form.hook?.delivery);
  problems.push(...deliveryProblems);
  // A new hook sends settings only when some are given; a change sends them whole (PATCH replaces them).
  if (form.hook !== undefined || Object.keys(delivery).length > 0) body.delivery = delivery;
  if (form.integration.requiresOAuth) body.oauth = readOAuth(form.hook?.oauth);
  if (problems.length > 0) throw new FormProblems(problems);
  return body;
}

function adminOnly(error, doing) {
  return error instanceof HttpError && error.status === 403
    ? `${doing} needs a key with the admin scope: this key can only look.`
    : undefined;
}

$("hook-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearProblems();
  let body;
  try {
    body = hookBody();
  } catch (error) {
    if (!(error instanceof FormProblems)) throw error;
    showHookProblems(error);
    return;
  }
  const editing = form.hook !== undefined;
  try {
    const saved = editing
      ? await api(`/v1/hooks/${encodeURIComponent(form.hook.id)}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      : await api("/v1/hooks", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            integration: form.integration.key,
            ...body,
            policy: body.policy ?? undefined,
          }),
        });
    form.hook = saved;
    $("hook-form-title").textContent = `Edit ${saved.name}`;
    $("hook-save").textContent = "Save";
    $("hook-test").hidden = false;
    $("hook-delete").hidden = false;
    $("hook-integration-field").hidden = true;
    fillDelivery(saved.delivery);
    if (form.integration.requiresOAuth) fillOAuth(saved.oauth);
    showConnection();
    $("hook-result").textContent = `${editing ? "Saved" : "Created"} hook ${saved.name} (${saved.id}).`;
    void refresh();
  } catch (error) {
    const message = adminOnly(error, editing ? "Changing a hook" : "Creating a hook");
    if (message !== undefined) showHookProblems({ message, problems: [] });
    else showHookProblems(error);
  }
});

$("hook-test").addEventListener("click", async () => {
  if (form.hook === undefined) return;
  try {
    const answer = await api(`/v1/hooks/${encodeURIComponent(form.hook.id)}/test`, { method: "POST" });
    const status =
      answer.statusCode !== undefined ? `HTTP ${answer.statusCode}` : (answer.errorCode ?? "no answer");
    $("hook-result").textContent =
      `Test ${answer.ok ? "answered" : "failed"}: ${status} in ${formatMs(answer.durationMs)}${answer.errorMessage ? ` (${answer.errorMessage})` : ""}.`;
    $("hook-result").className = `replay-result ${answer.ok ? "" : "bad"}`;
  } catch (error) {
    $("hook-result").textContent =
      adminOnly(error, "Sending a test") ?? `Could not send the test: ${error.message}`;
    $("hook-result").className = "replay-result bad";
  }
});

$("hook-delete").addEventListener("click", async () => {
  if (
    form.hook === undefined ||
    !confirm(`Delete hook ${form.hook.name}? Its deliveries in flight are dropped.`)
  )
    return;
  try {
    await api(`/v1/hooks/${encodeURIComponent(form.hook.id)}`, { method: "DELETE" });
    toast(`Hook ${form.hook.name} deleted.`, "ok");
    $("hook-form").hidden = true;
    void refresh();
  } catch (error) {
    $("hook-result").textContent =
      adminOnly(error, "Deleting a hook") ?? `Could not delete it: ${error.message}`;
    $("hook-result").className = "replay-result bad";
  }
});

// ── replaying a hook's failed deliveries ─────────────────────────────────────

const replay = { hook: undefined, since: undefined, count: 0 };

/** A time as a datetime-local input shows it: local, to the minute. */
function localInputValue(ms) {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

function openReplay(hook) {
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
    void refresh();
  } catch (error) {
    replayFailedWith(error);
  } finally {
    button.disabled = false;
  }
});

$("replay-cancel").addEventListener("click", () => {
  $("replay-form").hidden = true;
});

// ── a delivery, opened (#delivery=<id>) ──────────────────────────────────────

let opened;

async function openDelivery(id) {
  const panel = $("delivery-panel");
  $("delivery-title").textContent = `Delivery ${id}`;
  const retryButton = $("delivery-retry");
  retryButton.hidden = true;
  retryButton.disabled = false;
  retryButton.textContent = "Retry";
  panel.hidden = false;
  $("delivery-note").textContent = "";
  try {
    const path = `/v1/deliveries/${encodeURIComponent(id)}`;
    const [delivery, sent] = await Promise.all([
      api(path),
      // Its requests are rebuilt from the hook: none to show once the hook is deleted.
      api(`${path}/request`).catch(() => undefined),
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
    const requests = new Map((sent?.requests ?? []).map((request) => [request.attempt, request]));
    $("delivery-body").replaceChildren(...attemptRows(delivery, Date.now(), requests));
    $("delivery-note").textContent =
      sent === undefined ? "The requests it sent cannot be shown." : requestNote(sent);
    $("delivery-table").hidden = false;
    $("delivery-retry").hidden = delivery.status !== "failed";
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

async function openHookDeliveries(hook) {
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

function openFromHash() {
  const match = /^#delivery=(.+)$/.exec(location.hash);
  if (match && state.key !== "") void openDelivery(decodeURIComponent(match[1]));
}

window.addEventListener("hashchange", openFromHash);

$("delivery-close").addEventListener("click", () => {
  $("delivery-panel").hidden = true;
  history.replaceState(null, "", location.pathname);
});

$("delivery-retry").addEventListener("click", async (event) => {
  if (opened === undefined) return;
  await retry(opened, event.currentTarget);
  void openDelivery(opened.id);
});

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

async function loadIntegrations() {
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

function toast(message, tone) {
  const element = h("div", { class: `toast ${tone}`, role: "status" }, message);
  $("toasts").append(element);
  setTimeout(() => element.remove(), 5_000);
}

if (state.key === "") askForKey();
else {
  void refresh();
  openFromHash();
}
