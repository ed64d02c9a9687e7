import { randomBytes } from "node:crypto";
import { type HookOAuth, OAUTH_SECRET_FIELDS } from "@hookwire/delivery";
import { StoreError } from "./errors";

export type { HookOAuth };

export type FormValue = string | boolean;

/** Per-hook delivery settings; every field falls back to the worker's defaults. */
export interface HookDeliverySettings {
  /** Whole-attempt timeout. */
  timeoutMs?: number;
  /** Seconds to wait before each retry, after the first attempt. */
  retrySchedule?: number[];
  /** At most this many requests in flight to this hook. */
  concurrency?: number;
  /** At most this many requests a second to this hook. */
  ratePerSecond?: number;
  /** Also send Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature). */
  standardWebhooks?: boolean;
}

export interface HookDisabled {
  reason: string;
  at: string;
}

/** A configured instance of an integration, with its secrets decrypted (in memory only). */
export interface Hook {
  id: string;
  integration: string;
  name: string;
  on: boolean;
  formVariables: Record<string, FormValue>;
  /** Which form variables are secret: encrypted at rest, redacted in every answer. */
  secretKeys: string[];
  /** Statements that replace the integration's defaultPolicy; absent means use the default. */
  policy?: unknown[];
  delivery: HookDeliverySettings;
  /** How the hook of a `requiresOAuth` integration gets its access token (secrets sealed at rest). */
  oauth?: HookOAuth;
  createdAt: string;
  updatedAt: string;
  /** Set when hookwire turned the hook off itself (410 Gone, failing for days). */
  disabled?: HookDisabled;
  /** Grows with every change; caches compare it. */
  revision: number;
}

export interface HookInput {
  id?: string;
  integration: string;
  name: string;
  on?: boolean;
  formVariables: Record<string, FormValue>;
  policy?: unknown[] | null;
  delivery?: HookDeliverySettings;
  oauth?: HookOAuth | null;
}

export const REDACTED = "********";

const HOOK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Hook ids go into delivery ids and job ids, which split on "." and may not hold ":". */
export function checkHookId(id: string): void {
  if (!HOOK_ID_PATTERN.test(id)) {
    throw new StoreError(
      "STORE_ERR_BAD_ID",
      `hook id ${JSON.stringify(id)} must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'`,
    );
  }
}

export function newHookId(): string {
  return `hk_${randomBytes(10).toString("hex")}`;
}

/** The hook as every API answer shows it: secret values replaced, never sent back. */
export function redactHook(hook: Hook): Hook {
  const formVariables = { ...hook.formVariables };
  for (const key of hook.secretKeys) {
    if (formVariables[key] !== undefined && formVariables[key] !== "") formVariables[key] = REDACTED;
  }
  if (hook.oauth === undefined) return { ...hook, formVariables };
  const oauth: Record<string, unknown> = { ...hook.oauth };
  for (const field of OAUTH_SECRET_FIELDS) if (typeof oauth[field] === "string") oauth[field] = REDACTED;
  return { ...hook, formVariables, oauth: oauth as HookOAuth };
}
