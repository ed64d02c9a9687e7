import { type Catalog, checkFormValues } from "@hookwire/manifest";
import { validatePolicy } from "@hookwire/policy";
import type { FormValue, HookDeliverySettings, HookInput } from "@hookwire/store";
import type { Problem } from "./errors";

/** A hook as an operator writes it (POST /v1/hooks, the hooks file), before it is checked. */
export interface HookDraft {
  id?: string;
  integration: string;
  name: string;
  on?: boolean;
  formVariables?: Record<string, unknown>;
  policy?: unknown[] | null;
  delivery?: HookDeliverySettings;
}

export interface CheckedHook {
  input: HookInput;
  secretKeys: ReadonlySet<string>;
  warnings: Problem[];
}

/**
 * Checks a hook against the catalog: the integration exists and can be delivered, the form
 * variables fit its formVariables (defaults applied), the policy parses, Standard Webhooks has
 * a secret to sign with. Every problem comes back with its JSON pointer under `base`.
 */
export function checkHook(
  draft: HookDraft,
  catalog: Catalog,
  base = "",
): { hook?: CheckedHook; problems: Problem[] } {
  const problems: Problem[] = [];
  const integration = catalog.get(draft.integration);
  if (integration === undefined) {
    const known = catalog
      .list()
      .map((i) => i.key)
      .join(", ");
    problems.push({
      pointer: `${base}/integration`,
      message: `no integration '${draft.integration}' in the catalog (known: ${known})`,
    });
    return { problems };
  }
  if (!integration.deliverable) {
    problems.push({
      pointer: `${base}/integration`,
      message: `integration '${draft.integration}' cannot be delivered by hookwire`,
    });
  }
  const form = checkFormValues(integration, draft.formVariables ?? {});
  for (const error of form.errors)
    problems.push({ pointer: `${base}/formVariables${error.pointer}`, message: error.message });

  const warnings: Problem[] = [];
  if (draft.policy !== undefined && draft.policy !== null) {
    const verdict = validatePolicy(draft.policy);
    for (const issue of verdict.errors)
      problems.push({ pointer: `${base}/policy${issue.pointer}`, message: issue.message });
    for (const issue of verdict.warnings)
      warnings.push({ pointer: `${base}/policy${issue.pointer}`, message: issue.message });
  }
  if (draft.delivery?.standardWebhooks && integration.endpoint.hmacSignature === undefined) {
    problems.push({
      pointer: `${base}/delivery/standardWebhooks`,
      message: `integration '${integration.key}' has no hmacSignature secret to sign Standard Webhooks with`,
    });
  }
  if (problems.length > 0) return { problems };
  const input: HookInput = {
    integration: integration.key,
    name: draft.name,
    formVariables: form.values as Record<string, FormValue>,
    ...(draft.id !== undefined ? { id: draft.id } : {}),
    ...(draft.on !== undefined ? { on: draft.on } : {}),
    ...(draft.policy ? { policy: draft.policy } : {}),
    ...(draft.delivery !== undefined ? { delivery: draft.delivery } : {}),
  };
  return { hook: { input, secretKeys: integration.secretKeys, warnings }, problems };
}
