// The hook form's fields that depend on what the hook is made of: the integration's form
// variables, the delivery settings and, for an integration that requires OAuth, the connection.
// Each is drawn from the stored hook and read back into the body of POST or PATCH /v1/hooks.

import { h } from "./render.js";

const $ = (id) => document.getElementById(id);

/** What the API shows, and takes back to keep, for a secret it does not send out. */
export const MASK = "********";

/**
 * The inputs of an integration's form variables, each by its type: text (a password field for a
 * secret, showing ******** and keeping the stored value unless replaced), a choice of
 * allowedValues, a checkbox; optional ones say so, defaults fill a new hook's.
 */
export function variableFields(variables, values) {
  return variables.map((variable) => {
    const id = `hook-var-${variable.key}`;
    const value = values?.[variable.key] ?? (values === undefined ? variable.defaultValue : undefined);
    let input;
    if (variable.type === "boolean") {
      input = h("input", {
        id,
        type: "checkbox",
        "data-key": variable.key,
        checked: value === true || value === "true",
      });
    } else if (variable.type === "enum" || Array.isArray(variable.allowedValues)) {
      input = h(
        "select",
        { id, "data-key": variable.key },
        variable.isOptional ? h("option", { value: "" }, "(none)") : null,
        ...(variable.allowedValues ?? []).map((allowed) =>
          h("option", { value: allowed, selected: String(value ?? "") === String(allowed) }, String(allowed)),
        ),
      );
    } else {
      input = h("input", {
        id,
        "data-key": variable.key,
        type: variable.isSecret ? "password" : variable.type === "uri" ? "url" : "text",
        autocomplete: "off",
        spellcheck: "false",
        value: value === undefined ? "" : String(value),
        placeholder: variable.placeholder ?? "",
      });
    }
    const label = `${variable.name ?? variable.key}${variable.isOptional ? " (optional)" : ""}${variable.isSecret ? " (secret)" : ""}`;
    return h(
      "div",
      { class: variable.type === "boolean" ? "field check-field" : "field" },
      variable.type === "boolean"
        ? h("label", { class: "check" }, input, ` ${label}`)
        : [h("label", { for: id }, label), input],
      variable.description ? h("p", { class: "sub" }, variable.description) : null,
      h("p", { class: "field-problem", "data-pointer": `/formVariables/${variable.key}`, hidden: true }),
    );
  });
}

// ── delivery settings ────────────────────────────────────────────────────────

/** The number inputs of the delivery settings: input id → the setting it holds. */
const NUMBERS = {
  "hook-concurrency": "concurrency",
  "hook-rate": "ratePerSecond",
  "hook-timeout": "timeoutMs",
};

/** Shows a hook's delivery settings; empty fields leave the worker's defaults. */
export function fillDelivery(delivery = {}) {
  $("hook-retry").value = Array.isArray(delivery.retrySchedule) ? delivery.retrySchedule.join(", ") : "";
  for (const [id, key] of Object.entries(NUMBERS))
    $(id).value = delivery[key] === undefined ? "" : String(delivery[key]);
  $("hook-standard").checked = delivery.standardWebhooks === true;
  $("hook-ordering").value = delivery.ordering ?? "";
  $("hook-exhausted").value = delivery.onExhausted ?? "";
  showOrdering();
}

/** What becomes of an exhausted delivery is a choice of ordered hooks only. */
export function showOrdering() {
  $("hook-exhausted-field").hidden = $("hook-ordering").value === "";
}

/**
 * The delivery settings as the form holds them, over the stored ones (so that what the form does
 * not show, such as TLS, is kept: PATCH replaces `delivery` whole). Problems the API would only
 * report less clearly (a word in the retry schedule) come back with their pointers.
 */
export function readDelivery(stored = {}) {
  const delivery = { ...stored };
  const problems = [];
  const schedule = $("hook-retry").value.trim();
  if (schedule === "") delete delivery.retrySchedule;
  else if (schedule === "none" || schedule === "[]") delivery.retrySchedule = [];
  else {
    const parts = schedule.split(/[\s,]+/).filter((part) => part !== "");
    const bad = parts.filter((part) => !/^\d+(\.\d+)?$/.test(part));
    if (bad.length > 0)
      problems.push({
        pointer: "/delivery/retrySchedule",
        message: `seconds before each retry, as numbers separated by commas: ${bad.map((part) => JSON.stringify(part)).join(", ")} is not one`,
      });
    delivery.retrySchedule = parts.map(Number);
  }
  for (const [id, key] of Object.entries(NUMBERS)) {
    const text = $(id).value.trim();
    if (text === "") delete delivery[key];
    else delivery[key] = Number(text);
  }
  if ($("hook-standard").checked) delivery.standardWebhooks = true;
  else delete delivery.standardWebhooks;
  const choices = { ordering: $("hook-ordering").value, onExhausted: $("hook-exhausted").value };
  if (choices.ordering === "") choices.onExhausted = "";
  for (const [key, value] of Object.entries(choices)) {
    if (value === "") delete delivery[key];
    else delivery[key] = value;
  }
  return { delivery, problems };
}

// ── the OAuth connection ─────────────────────────────────────────────────────

const CC = "client_credentials";
const CODE = "authorization_code";
const TOKEN = "token";

/**
 * The settings of each grant (the hooks API's `oauth`): which grants use a field, and for which
 * it may be left empty.
 */
const OAUTH_FIELDS = [
  { key: "authorizeUrl", label: "Authorize URL", type: "url", grants: [CODE] },
  { key: "tokenUrl", label: "Token URL", type: "url", grants: [CC, CODE, TOKEN], optional: [TOKEN] },
  { key: "clientId", label: "Client id", grants: [CC, CODE, TOKEN], optional: [TOKEN] },
  { key: "clientSecret", label: "Client secret", secret: true, grants: [CC, CODE, TOKEN], optional: [TOKEN] },
  { key: "scope", label: "Scope", grants: [CC, CODE], optional: [CC, CODE] },
  {
    key: "clientAuth",
    label: "Client authentication",
    choices: ["basic", "post"],
    grants: [CC, CODE],
    optional: [CC, CODE],
  },
  { key: "accessToken", label: "Access token", secret: true, grants: [TOKEN] },
  { key: "refreshToken", label: "Refresh token", secret: true, grants: [TOKEN], optional: [TOKEN] },
  { key: "expiresAt", label: "Expires at (ISO 8601)", grants: [TOKEN], optional: [TOKEN] },
  { key: "baseURI", label: "Base URI (the requests' oauth.baseURI)", type: "url", grants: [CC, CODE, TOKEN] },
];

/** Draws the OAuth fields with a hook's settings (secrets as the API shows them: ********). */
export function fillOAuth(oauth) {
  const grant = oauth?.grant ?? CC;
  $("hook-oauth-grant").value = grant;
  $("hook-oauth-fields").replaceChildren(
    ...OAUTH_FIELDS.map((field) => {
      const id = `hook-oauth-${field.key}`;
      const value = oauth?.[field.key] ?? "";
      const input = field.choices
        ? h(
            "select",
            { id, "data-oauth": field.key },
            h("option", { value: "" }, "(the provider's default)"),
            ...field.choices.map((choice) =>
              h("option", { value: choice, selected: value === choice }, choice),
            ),
          )
        : h("input", {
            id,
            "data-oauth": field.key,
            type: field.secret ? "password" : field.type === "url" ? "url" : "text",
            autocomplete: "off",
            spellcheck: "false",
            value: String(value),
          });
      return h(
        "div",
        {
          class: "field",
          "data-grants": field.grants.join(" "),
          "data-optional": (field.optional ?? []).join(" "),
        },
        h("label", { for: id }, field.label, h("span", { class: "optional" }, " (optional)")),
        input,
        h("p", { class: "field-problem", "data-pointer": `/oauth/${field.key}`, hidden: true }),
      );
    }),
  );
  showGrant();
}

/** Shows the fields of the chosen grant only, each saying whether it may be left empty. */
export function showGrant() {
  const grant = $("hook-oauth-grant").value;
  for (const field of $("hook-oauth-fields").querySelectorAll("[data-grants]")) {
    field.hidden = !field.dataset.grants.split(" ").includes(grant);
    field.querySelector(".optional").hidden = !field.dataset.optional.split(" ").includes(grant);
  }
}

/**
 * The `oauth` of the body: the chosen grant's fields that have a value (******** keeps a secret),
 * over what the stored settings hold that the form does not show (the token an operator's
 * Connect got): PATCH replaces `oauth` whole, and a save must not disconnect the hook.
 */
export function readOAuth(stored) {
  const grant = $("hook-oauth-grant").value;
  const oauth = stored?.grant === grant ? { ...stored } : { grant };
  for (const field of $("hook-oauth-fields").querySelectorAll("[data-grants]")) {
    if (field.hidden) continue;
    const input = field.querySelector("[data-oauth]");
    const value = input.value.trim();
    if (value !== "") oauth[input.dataset.oauth] = value;
    else delete oauth[input.dataset.oauth];
  }
  return oauth;
}

/** Whether a hook's authorization_code grant holds a token, in words, for beside the Connect button. */
export function connectionState(oauth) {
  if (oauth?.grant !== CODE) return "";
  return oauth.accessToken
    ? "Connected: hookwire holds an access token for this hook. Connect again to replace it."
    : "Not connected yet: Connect sends you to the provider to consent; deliveries fail until then.";
}
