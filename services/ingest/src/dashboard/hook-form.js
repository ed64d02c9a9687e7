// The hook form: make, change, test and delete a hook, its fields drawn from the integration's
// manifest (hook-fields.js), the API's problems shown beside the fields they point at.

import { $, adminOnly, api, changed, toast } from "./api.js";
import {
  connectionState,
  fillDelivery,
  fillOAuth,
  readDelivery,
  readOAuth,
  showGrant,
  showOrdering,
  variableFields,
} from "./hook-fields.js";
import { markdownNodes } from "./markdown.js";
import { formatMs, h } from "./render.js";

// ── a hook, made or changed ──────────────────────────────────────────────────

/** The form's hook and integration; `opened` and `shown` count the openings and drawings, so a late answer is dropped. */
const form = { hook: undefined, integration: undefined, defaultPolicy: "", opened: 0, shown: 0 };

let deliverable;

/** The integrations hooks can be made of, asked once (again only after a failure). */
export function integrationOptions() {
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
export function integrationOption(integration) {
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

$("hook-ordering").addEventListener("change", showOrdering);

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

export async function openHookForm(hook) {
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
    changed();
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
    changed();
  } catch (error) {
    $("hook-result").textContent =
      adminOnly(error, "Deleting a hook") ?? `Could not delete it: ${error.message}`;
    $("hook-result").className = "replay-result bad";
  }
});
