// DOM building for the dashboard's tables and figures. Every value from the API goes in as text
// (textContent), never as markup: hook names, reasons and error bodies are untrusted.

/** Creates an element: h("div", { class: "num" }, "12", child, …). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * A table cell. Its content sits in one wrapper, so that on a phone, where each cell becomes a
 * "label: value" line, the value stays in one piece.
 */
export function cell(label, attributes, ...children) {
  return h("td", { "data-label": label, ...attributes }, h("div", { class: "cell" }, ...children));
}

export function formatCount(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toLocaleString("en");
}

export function formatRate(perSecond) {
  if (perSecond === 0) return "0";
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 10) return perSecond.toFixed(1);
  if (perSecond >= 0.01) return perSecond.toFixed(2);
  return perSecond.toFixed(3);
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms >= 3600e3) return `${(ms / 3600e3).toFixed(1)} h`;
  if (ms >= 60e3) return `${(ms / 60e3).toFixed(1)} min`;
  if (ms >= 1e3) return `${(ms / 1e3).toFixed(ms >= 1e4 ? 0 : 1)} s`;
  return `${ms >= 10 ? Math.round(ms) : Number(ms.toFixed(1))} ms`;
}

export function formatAge(seconds) {
  return seconds <= 0 ? "none" : formatMs(seconds * 1e3);
}

/** "12 s ago", "5 min ago", "3 h ago", or the date for older times. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const at = typeof iso === "number" ? iso : Date.parse(iso);
  const seconds = Math.max(0, Math.round((now - at) / 1e3));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(at).toLocaleDateString();
}

const STATE_LABELS = {
  enabled: ["healthy", "ok"],
  circuit_open: ["circuit open", "bad"],
  disabled: ["off", "off"],
};

function stateBadge(hook) {
  if (hook.disabled) return h("span", { class: "badge bad", title: hook.disabled.reason }, "disabled");
  if (hook.health.held) return h("span", { class: "badge bad", title: hook.health.held.reason }, "held");
  const [label, tone] = STATE_LABELS[hook.state] ?? [hook.state, "off"];
  if (hook.state === "enabled" && hook.health.consecutiveFailures > 0) {
    return h("span", { class: "badge warn" }, "failing");
  }
  return h("span", { class: `badge ${tone}` }, label);
}

/** The hooks in the order the table shows them: circuit open, then failing, then by name. */
export function sortHooks(hooks) {
  const rank = (hook) => (hook.state === "circuit_open" ? 0 : hook.health.consecutiveFailures > 0 ? 1 : 2);
  return [...hooks].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/**
 * The hooks table body: one row per hook (of those given, in their order), with its health, its
 * on/off switch and its buttons, and under an ordered hook that is held, a row saying why.
 * `actions`: { edit(hook), replay(hook), deliveries(hook), toggle(hook, input),
 * releaseHeld(hook, "retry" | "skip", button), readOnly }: readOnly, when set, is why the switch
 * cannot be used.
 */
export function hookRows(hooks, now, actions) {
  if (hooks.length === 0) {
    return [h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No hooks yet: make one with New hook."))];
  }
  return hooks.flatMap((hook) => {
    const { health, lastHour } = hook;
    const row = h(
      "tr",
      { "data-hook": hook.id },
      cell(
        "Hook",
        {},
        h("div", { class: "name" }, hook.name),
        h("div", { class: "sub mono" }, `${hook.integration} · ${hook.id}`),
      ),
      cell(
        "State",
        {},
        stateBadge(hook),
        onSwitch(hook, actions),
        hook.orderedWaiting === undefined
          ? []
          : h(
              "div",
              {
                class: "sub ordered-waiting",
                title: "Ordered (fifo): sent one at a time, in the entries' order",
              },
              `ordered · ${formatCount(hook.orderedWaiting)} waiting`,
            ),
      ),
      cell(
        "Last hour",
        { class: "num" },
        h("span", { class: "ok-text" }, formatCount(lastHour.succeeded)),
        " / ",
        h("span", { class: lastHour.failed > 0 ? "bad-text" : "" }, formatCount(lastHour.failed)),
      ),
      cell(
        "Failures in a row",
        { class: "num" },
        h(
          "span",
          { class: health.consecutiveFailures > 0 ? "bad-text" : "" },
          String(health.consecutiveFailures),
        ),
      ),
      cell("Last success", {}, ago(health.lastSuccessAt, now)),
      cell(
        "Last failure",
        {},
        health.lastFailureAt
          ? [
              h("div", {}, ago(health.lastFailureAt, now)),
              h(
                "div",
                { class: "sub reason", title: health.lastFailureReason ?? "" },
                health.lastFailureReason ?? "",
              ),
            ]
          : h("span", { class: "sub" }, "none"),
      ),
      cell(
        "Actions",
        { class: "actions" },
        h("button", { type: "button", class: "secondary edit", onclick: () => actions.edit(hook) }, "Edit"),
        h(
          "button",
          { type: "button", class: "secondary deliveries", onclick: () => actions.deliveries(hook) },
          "Deliveries",
        ),
        h(
          "button",
          { type: "button", class: "secondary replay", onclick: () => actions.replay(hook) },
          "Replay…",
        ),
      ),
    );
    return health.held ? [row, heldRow(hook, health.held, actions)] : [row];
  });
}

/**
 * Under an ordered hook held by a delivery that ran out of attempts: which one and why, and the
 * two ways on (POST /v1/hooks/:id/ordering/retry or /skip).
 */
function heldRow(hook, held, actions) {
  const button = (step, label) =>
    h(
      "button",
      {
        type: "button",
        class: `secondary held-${step}`,
        "data-admin": "",
        onclick: (event) => actions.releaseHeld(hook, step, event.currentTarget),
      },
      label,
    );
  return h(
    "tr",
    { class: "held-row", "data-held": hook.id },
    h(
      "td",
      { colspan: 7, "data-label": "Held" },
      h(
        "div",
        { class: "cell" },
        h(
          "p",
          { class: "held-note" },
          "Its ordered deliveries wait behind ",
          deliveryLink(held.deliveryId),
          ` since ${new Date(held.since).toLocaleString()}: ${held.reason}`,
        ),
        button("retry", "Send it again"),
        button("skip", "Skip it"),
      ),
    ),
  );
}

/** A hook's on/off switch (PATCH its `on`); disabled, saying why, for a key that can only look. */
function onSwitch(hook, actions) {
  const input = h("input", {
    type: "checkbox",
    role: "switch",
    class: "hook-toggle",
    checked: hook.on,
    disabled: actions.readOnly !== undefined,
    title: actions.readOnly ?? (hook.on ? "Turn this hook off" : "Turn this hook on"),
    "aria-label": `${hook.name}: on`,
    "aria-describedby": actions.readOnly === undefined ? undefined : "hooks-read-only",
    onchange: (event) => actions.toggle(hook, event.currentTarget),
  });
  return h("label", { class: "switch" }, input, h("span", { class: "switch-text" }, hook.on ? "on" : "off"));
}

/** What became of an entry at each hook (GET /v1/entries/:id): its outcome, and why or its delivery. */
export function traceRows(trace) {
  if (trace.hooks.length === 0) {
    return [
      h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No hook was on when the entry was accepted.")),
    ];
  }
  const tones = { queued: "ok", filtered: "off", skipped: "warn", render_failed: "bad" };
  return trace.hooks.map((hook) =>
    h(
      "tr",
      { "data-hook": hook.hookId },
      cell(
        "Hook",
        {},
        h("div", { class: "name" }, hook.name ?? hook.hookId),
        h("div", { class: "sub mono" }, hook.hookId),
      ),
      cell(
        "Outcome",
        {},
        h("span", { class: `badge ${tones[hook.outcome] ?? "off"}` }, hook.outcome.replace("_", " ")),
      ),
      cell(
        "Why, or the delivery",
        { class: "wide" },
        hook.outcome === "queued"
          ? [
              h("div", {}, hook.status ?? "no record kept"),
              hook.status === undefined
                ? h("div", { class: "sub mono" }, hook.deliveryId ?? "")
                : deliveryLink(hook.deliveryId),
            ]
          : h("div", { class: "reason" }, hook.reason ?? ""),
      ),
    ),
  );
}

/** A link that opens a delivery on this page (`#delivery=<id>`), so it can be shared too. */
export function deliveryLink(id) {
  return h("a", { href: `#delivery=${encodeURIComponent(id)}`, class: "mono delivery-link" }, id);
}

/**
 * The warnings above the figures: deliveries found stuck in the last hour (the worker's sweeper
 * queued them again), and a Redis that would lose acknowledged entries on a restart.
 */
export function alertBanners(stats) {
  const banners = [];
  const stuck = stats.totals.deliveries.stuck ?? 0;
  if (stuck > 0) {
    const last = [...stats.minutes].reverse().find((m) => (m.deliveries.stuck ?? 0) > 0);
    banners.push(
      h(
        "div",
        { class: "alert warn", id: "alert-stuck", role: "status" },
        h(
          "strong",
          {},
          `${formatCount(stuck)} ${stuck === 1 ? "delivery was" : "deliveries were"} found stuck in the last hour`,
        ),
        ` (pending past their next attempt, nothing queued behind them) and queued again${last ? `, the latest ${ago(last.at, Date.parse(stats.generatedAt))}` : ""}. `,
        "If it recurs, the worker's log says which jobs failed or which worker died.",
      ),
    );
  }
  const persistence = stats.redis?.persistence;
  if (persistence && persistence.durable === false) {
    banners.push(
      h(
        "div",
        { class: "alert bad", id: "alert-persistence", role: "status" },
        h("strong", {}, "Redis has its append-only file off: "),
        `entries answered 202 whose webhooks are still queued would be lost on a Redis restart (a crash loses ${persistence.lossWindow}). `,
        "Turn it on: ",
        h("code", {}, "CONFIG SET appendonly yes"),
        ", and appendonly yes in redis.conf.",
      ),
    );
  } else if (persistence && persistence.durable === null) {
    banners.push(
      h(
        "div",
        { class: "alert warn", id: "alert-persistence", role: "status" },
        h("strong", {}, "Redis' persistence is unknown: "),
        "this Redis does not allow CONFIG GET; make sure its append-only file is on (the provider's persistence settings).",
      ),
    );
  }
  return banners;
}

/** The header's Redis badge: what it keeps on disk, in a few words. */
export function persistenceBadge(persistence) {
  if (!persistence) return { text: "", tone: "", title: "" };
  if (persistence.durable === true) {
    return {
      text: `Redis: AOF ${persistence.appendfsync}`,
      tone: "ok",
      title: `A crash loses ${persistence.lossWindow}`,
    };
  }
  if (persistence.durable === false) {
    return {
      text: persistence.save === "" ? "Redis: nothing on disk" : "Redis: snapshots only",
      tone: "bad",
      title: `A crash loses ${persistence.lossWindow}`,
    };
  }
  return { text: "Redis: persistence unknown", tone: "warn", title: persistence.lossWindow };
}
