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
  /**
   * "fifo": one delivery at a time, in the order of the entries' time, across every worker (see
   * @hookwire/queue's sequence.ts). Absent: as many at once as `concurrency` allows.
   */
  ordering?: "fifo";
  /**
   * What an ordered hook does with a delivery that runs out of attempts: "hold" (the default)
   * stops the hook until an operator retries or skips it; "skip" dead-letters it and goes on.
   */
  onExhausted?: "hold" | "skip";
  /**
   * TLS of the hook's connections, PEM: a client certificate and its key for a receiver that
   * requires mTLS, a CA to trust beside the system's. Sealed at rest; the key is never shown.
   */
  tls?: HookTls;
}

export interface HookTls {
  cert?: string;
  key?: string;
  ca?: string;
}

/** The parts of `delivery.tls` sealed at rest. */
export const TLS_FIELDS = ["cert", "key", "ca"] as const;

/**
 * A signing secret replaced with an overlap (PATCH `rotateSecret`): until `until` the old secret
 * signs beside the new one (Standard Webhooks' second signature), so receivers can move over.
 */
export interface SecretRotation {
  /** The form variable replaced: the integration's `hmacSecretFormVariableKey`. */
  key: string;
  /** The secret before: sealed at rest, never in an answer. */
  previous: string;
  rotatedAt: string;
  until: string;
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
  /** The last rotation of its signing secret, while the old one may still sign. */
  secretRotation?: SecretRotation;
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

/** A URL's password (userinfo), when the value is an absolute URL that has one. */
function urlPassword(value: FormValue | undefined): string | undefined {
  if (typeof value !== "string" || !value.includes("@")) return undefined;
  try {
    return new URL(value).password || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The form variables of a hook that are secret: the integration's secret ones that have a value,
 * and any whose value is a URL with a password in it (`https://user:pass@host/`), which is as
 * secret as a token. They are sealed at rest and redacted in every answer.
 */
export function hookSecretKeys(
  formVariables: Readonly<Record<string, FormValue>>,
  secretKeys: ReadonlySet<string>,
): string[] {
  return Object.keys(formVariables).filter(
    (key) =>
      formVariables[key] !== undefined &&
      (secretKeys.has(key) || urlPassword(formVariables[key]) !== undefined),
  );
}

/**
 * A secret value as answers show it: `********`, or for a URL with a password the URL with its
 * password replaced (`https://user:********@host/path`), so the operator still sees where it goes.
 */
export function redactedValue(value: FormValue): FormValue {
  if (value === "") return value;
  if (urlPassword(value) === undefined) return REDACTED;
  const url = new URL(value as string);
  url.password = REDACTED;
  return url.toString();
}

/** The hook as every API answer shows it: secret values replaced, never sent back. */
export function redactHook(hook: Hook): Hook {
  const formVariables = { ...hook.formVariables };
  for (const key of hook.secretKeys) {
    const value = formVariables[key];
    if (value !== undefined) formVariables[key] = redactedValue(value);
  }
  const shown: Hook = { ...hook, formVariables };
  if (hook.delivery.tls?.key !== undefined)
    shown.delivery = { ...hook.delivery, tls: { ...hook.delivery.tls, key: REDACTED } };
  if (hook.secretRotation !== undefined)
    shown.secretRotation = { ...hook.secretRotation, previous: REDACTED };
  if (hook.oauth === undefined) return shown;
  const oauth: Record<string, unknown> = { ...hook.oauth };
  for (const field of OAUTH_SECRET_FIELDS) if (typeof oauth[field] === "string") oauth[field] = REDACTED;
  return { ...shown, oauth: oauth as HookOAuth };
}
