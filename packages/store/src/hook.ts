import { createHash, randomBytes } from "node:crypto";
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
  /**
   * A digest of the OAuth tokens as the operator last gave them (see `replacedOAuth`), sealed at
   * rest and never shown: tells a restated hook (a hooks file applied again) from new tokens.
   */
  oauthGiven?: string;
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
  delete shown.oauthGiven;
  if (hook.oauth === undefined) return shown;
  const oauth: Record<string, unknown> = { ...hook.oauth };
  for (const field of OAUTH_SECRET_FIELDS) if (typeof oauth[field] === "string") oauth[field] = REDACTED;
  return { ...shown, oauth: oauth as HookOAuth };
}

/** The OAuth fields hookwire itself replaces as it gets tokens (a refresh, the callback). */
const OAUTH_TOKEN_FIELDS = ["accessToken", "refreshToken", "expiresAt"] as const;

/** A digest of the tokens in `oauth` (never the tokens): what `Hook.oauthGiven` holds. */
export function oauthTokensDigest(oauth: HookOAuth): string {
  const fields = oauth as Partial<Record<(typeof OAUTH_TOKEN_FIELDS)[number], string>>;
  const tokens = OAUTH_TOKEN_FIELDS.map((field) => fields[field] ?? null);
  return createHash("sha256").update(JSON.stringify(tokens)).digest("base64url");
}

/**
 * The OAuth settings of a hook whose settings are given whole again (a hooks file applied at each
 * start, a PUT): when they give the same client and the same tokens as were given last time, the
 * tokens hookwire got since are kept. Those are a refresh's (a provider that rotates refresh
 * tokens has revoked the one given) or an authorization_code hook's callback's (the file has
 * none): writing what was given over them would leave the hook unable to get a token. New tokens,
 * or another client, replace them.
 */
export function replacedOAuth(
  stored: Pick<Hook, "oauth" | "oauthGiven"> | undefined,
  given: HookOAuth | undefined,
): Pick<Hook, "oauth" | "oauthGiven"> {
  if (given === undefined) return { oauth: undefined, oauthGiven: undefined };
  const digest = oauthTokensDigest(given);
  const kept = stored?.oauth;
  if (kept === undefined || stored?.oauthGiven !== digest || !sameClient(kept, given))
    return { oauth: given, oauthGiven: digest };
  const oauth: Record<string, unknown> = { ...given };
  for (const field of OAUTH_TOKEN_FIELDS) {
    const value = (kept as Record<string, unknown>)[field];
    if (value === undefined) delete oauth[field];
    else oauth[field] = value;
  }
  return { oauth: oauth as HookOAuth, oauthGiven: digest };
}

/** Whether tokens of one client's settings are good for the other's: same grant, provider and client id. */
function sameClient(a: HookOAuth, b: HookOAuth): boolean {
  return a.grant === b.grant && a.tokenUrl === b.tokenUrl && a.clientId === b.clientId;
}
