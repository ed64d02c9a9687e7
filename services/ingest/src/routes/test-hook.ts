import { timestampOf } from "@hookwire/entries";
import { type AttemptMade, makeAttempt } from "@hookwire/manifest";
import type { Hook } from "@hookwire/store";
import { ApiError } from "../errors";
import type { Services } from "../services";
import { findIntegration } from "./integrations";

/**
 * The entry "test this hook" sends: a flag turned on, stamped now. Receivers can tell it by its
 * id prefix and the "[TEST]" in its title.
 */
function testEntry(now: number): Record<string, unknown> {
  return {
    _id: `hookwire-test-${now}`,
    kind: "flag",
    key: "hookwire-test-flag",
    name: "hookwire test flag",
    verbKind: "updateOn",
    titleVerb: "turned on the flag",
    timestamp: timestampOf(now),
    title: {
      plainText: "hookwire turned on the flag hookwire test flag in 'Production' [TEST]",
      markdown: "hookwire turned on the flag `hookwire test flag` in `Production` [TEST]",
      html: "hookwire turned on the flag <code>hookwire test flag</code> in <code>Production</code> [TEST]",
    },
    details: { plainText: "", markdown: "", html: "" },
    comment: "",
    project: {
      key: "hookwire",
      name: "hookwire",
      tags: [],
      environment: { key: "production", name: "Production", tags: [] },
    },
    member: { email: "hookwire@example.com", firstName: "hookwire", lastName: "", displayName: "hookwire" },
    tags: [],
    customProperties: {},
    target: { name: "hookwire test flag" },
  };
}

/** Sends the integration's validation template (or the entry kind's) to the hook now. */
export async function testHook(services: Services, hook: Hook) {
  const integration = findIntegration(services, hook.integration);
  const now = Date.now();
  const entry = testEntry(now);
  let made: AttemptMade;
  try {
    made = await makeAttempt(
      {
        sender: services.sender,
        oauth: services.oauth,
        privateNetworksBlocked: services.sender.privateNetworksBlocked,
        defaultConcurrency: services.config.worker.perHookConcurrency,
      },
      integration,
      hook,
      { id: `${hook.id}.test-${now}`, templateKey: "", entry },
      1,
      integration.templates.validation ? "validation" : undefined,
    );
  } catch (error) {
    throw new ApiError(
      "API_ERR_BAD_REQUEST",
      `the hook's template failed to render: ${(error as Error).message}`,
    );
  }
  if (made.kind === "skip") return { ok: false, template: made.templateKey, errorMessage: made.reason };
  const { result } = made;
  const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
  return {
    ok,
    template: made.templateKey ?? "",
    durationMs: Math.round(result.durationMs),
    ...(result.status !== undefined ? { statusCode: result.status } : {}),
    ...(result.errorBody !== undefined ? { body: result.errorBody } : {}),
    ...(result.errorCode !== undefined ? { errorCode: result.errorCode } : {}),
    ...(result.errorMessage !== undefined ? { errorMessage: result.errorMessage } : {}),
  };
}
