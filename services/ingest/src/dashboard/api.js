// The page's talk with the API: the key it carries (kept in this browser's localStorage), what
// that key may do, the calls themselves, and the word that something was changed.

import { h } from "./render.js";

export const KEY_STORAGE = "hookwire.apiKey";
const REQUEST_TIMEOUT_MS = 10_000;

/** Rows a list shows at first, and how many more each "More" adds. */
export const PAGE = 20;

export const $ = (id) => document.getElementById(id);

/** The key the page sends, and its scopes (GET /v1/key), asked once per key. */
export const session = { key: localStorage.getItem(KEY_STORAGE) ?? "", scopes: undefined };

export class HttpError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

export async function api(path, init = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      ...init,
      signal: controller.signal,
      headers: {
        accept: "application/json",
        authorization: `Bearer ${session.key}`,
        ...(init.headers ?? {}),
      },
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

/** What to say when a key that can only look was refused, else undefined. */
export function adminOnly(error, doing) {
  return error instanceof HttpError && error.status === 403
    ? `${doing} needs a key with the admin scope: this key can only look.`
    : undefined;
}

/** Why this key cannot change anything, or undefined when it can (an admin key). */
export function readOnlyReason() {
  if (session.scopes === undefined || session.scopes.includes("admin")) return undefined;
  return "This key can only look: this needs a key with the admin scope.";
}

/**
 * An admin button (`data-admin`) as this key may use it: disabled, saying why, for a key that can
 * only look. Buttons made later (a table's rows) are made through this too.
 */
export function guardAdmin(button) {
  const reason = readOnlyReason();
  button.disabled = reason !== undefined;
  if (reason === undefined) button.removeAttribute("title");
  else button.title = reason;
  return button;
}

/** Every admin button on the page, once the key's scopes are known (or a panel is opened). */
export function guardAdminButtons() {
  for (const button of document.querySelectorAll("[data-admin]")) guardAdmin(button);
}

export function toast(message, tone) {
  const element = h("div", { class: `toast ${tone}`, role: "status" }, message);
  $("toasts").append(element);
  setTimeout(() => element.remove(), 5_000);
}

const changes = new EventTarget();

/** Says that something was changed (a hook, a delivery): the figures are read again. */
export function changed() {
  changes.dispatchEvent(new Event("changed"));
}

export function onChanged(listener) {
  changes.addEventListener("changed", listener);
}
