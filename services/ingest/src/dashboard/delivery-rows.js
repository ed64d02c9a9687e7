// The rows of the delivery tables: the latest failed deliveries, a hook's deliveries, and the
// attempts of an opened delivery with the request each sent. Values go in as text, never markup.

import { ago, cell, deliveryLink, formatMs, h } from "./render.js";

function lastAttemptSummary(delivery) {
  const last = delivery.attempts.at(-1);
  if (last === undefined) return { status: "not sent", tone: "off", body: undefined, message: undefined };
  if (last.statusCode !== undefined) {
    return {
      status: `HTTP ${last.statusCode}`,
      tone: "bad",
      body: last.errorBody,
      message: last.errorMessage,
    };
  }
  return {
    status: last.errorCode ?? "error",
    tone: "warn",
    body: last.errorBody,
    message: last.errorMessage,
  };
}

/** An attempt's kept answer body, else its error message, folded; nothing when it has neither. */
function answerDetails(body, message) {
  const detail = body ?? message;
  if (!detail) return null;
  return h(
    "details",
    {},
    h("summary", {}, body !== undefined ? "response body" : "error"),
    h("pre", { class: "mono" }, detail),
  );
}

/**
 * The request an attempt sent (GET /v1/deliveries/:id/request), folded: its method and URL, then
 * its headers and body. Secrets come masked from the API; a body not kept says so.
 */
function requestDetails(request) {
  if (request === undefined) return h("span", { class: "sub" }, "not known");
  return h(
    "details",
    { class: "sent-request" },
    h("summary", { class: "mono" }, `${request.method} ${request.url}`),
    h(
      "dl",
      { class: "request-headers mono" },
      request.headers.flatMap((header) => [h("dt", {}, header.name), h("dd", {}, header.value)]),
    ),
    request.body === null
      ? h("p", { class: "sub request-body-missing" }, "Body not kept.")
      : h("pre", { class: "mono request-body" }, request.body),
  );
}

/**
 * A delivery's attempts, oldest first: when, how long, the answer, what came of it, a kept body,
 * and the request it sent (`requests`, by attempt number, when known).
 */
export function attemptRows(delivery, now, requests = new Map()) {
  if (delivery.attempts.length === 0) {
    return [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "Not attempted yet."))];
  }
  const outcomes = { done: ["succeeded", "ok"], retry: ["retried", "warn"], give_up: ["given up", "bad"] };
  return delivery.attempts.map((attempt) => {
    const [outcome, tone] = outcomes[attempt.outcome] ?? [attempt.outcome, "off"];
    return h(
      "tr",
      { "data-attempt": attempt.attempt },
      cell("Attempt", { class: "num" }, String(attempt.attempt)),
      cell(
        "When",
        {},
        h("div", {}, ago(attempt.at, now)),
        h("div", { class: "sub" }, new Date(attempt.at).toLocaleString()),
      ),
      cell("Took", { class: "num" }, formatMs(attempt.durationMs)),
      cell(
        "Answer",
        {},
        attempt.statusCode !== undefined ? `HTTP ${attempt.statusCode}` : (attempt.errorCode ?? ""),
        answerDetails(attempt.errorBody, attempt.errorMessage),
      ),
      cell("Outcome", {}, h("span", { class: `badge ${tone}` }, outcome)),
      cell("Request as sent", { class: "wide" }, requestDetails(requests.get(attempt.attempt))),
    );
  });
}

/** The failed deliveries, newest first, each with its last answer and a retry button. */
export function failureRows(deliveries, hookNames, now, onRetry) {
  if (deliveries.length === 0) {
    return [h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No failed deliveries. Nothing to do."))];
  }
  return deliveries.map((delivery) => {
    const summary = lastAttemptSummary(delivery);
    return h(
      "tr",
      { "data-delivery": delivery.id },
      cell(
        "When",
        {},
        h("div", {}, ago(delivery.updatedAt, now)),
        h(
          "div",
          { class: "sub" },
          `${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? "" : "s"}`,
        ),
      ),
      cell(
        "Hook / entry",
        {},
        h("div", { class: "name" }, hookNames.get(delivery.hookId) ?? delivery.hookId),
        h("div", { class: "sub" }, deliveryLink(delivery.id)),
      ),
      cell("Answer", {}, h("span", { class: `badge ${summary.tone}` }, summary.status)),
      cell(
        "Reason",
        { class: "wide" },
        h("div", { class: "reason" }, delivery.reason ?? ""),
        answerDetails(summary.body, summary.message),
      ),
      cell(
        "",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-admin": "",
            onclick: (event) => onRetry(delivery, event.currentTarget),
          },
          "Retry",
        ),
      ),
    );
  });
}

const STATUS_TONES = { succeeded: "ok", failed: "bad", pending: "warn", skipped: "off" };

/** A hook's deliveries, newest first: when accepted, the entry, the status and the last answer. */
export function deliveryRows(deliveries, now) {
  if (deliveries.length === 0) {
    return [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No deliveries of this hook are kept."))];
  }
  return deliveries.map((delivery) => {
    const last = delivery.attempts.at(-1);
    const answer =
      last === undefined
        ? "not sent"
        : last.statusCode !== undefined
          ? `HTTP ${last.statusCode}`
          : (last.errorCode ?? "error");
    return h(
      "tr",
      { "data-delivery": delivery.id },
      cell(
        "Accepted",
        {},
        h("div", {}, ago(delivery.acceptedAt, now)),
        h("div", { class: "sub" }, new Date(delivery.acceptedAt).toLocaleString()),
      ),
      cell("Entry", {}, h("div", { class: "name mono" }, delivery.entryId), deliveryLink(delivery.id)),
      cell(
        "Status",
        {},
        h("span", { class: `badge ${STATUS_TONES[delivery.status] ?? "off"}` }, delivery.status),
      ),
      cell(
        "Last answer",
        {},
        answer,
        h(
          "div",
          { class: "sub" },
          `${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? "" : "s"}`,
        ),
      ),
    );
  });
}
