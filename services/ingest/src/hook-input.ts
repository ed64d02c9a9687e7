import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { type Catalog, checkFormValues } from "@hookwire/manifest";
import { validatePolicy } from "@hookwire/policy";
import type { FormValue, HookDeliverySettings, HookInput, HookOAuth, HookTls } from "@hookwire/store";
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
  oauth?: unknown;
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
  const oauth = draft.oauth ?? undefined;
  if (integration.requiresOAuth && oauth === undefined) {
    problems.push({
      pointer: `${base}/oauth`,
      message: `integration '${integration.key}' requires OAuth: give {"grant": "client_credentials", "tokenUrl", "clientId", "clientSecret", "baseURI"} or {"grant": "token", "accessToken", "baseURI", ...}`,
    });
  } else if (!integration.requiresOAuth && oauth !== undefined) {
    problems.push({
      pointer: `${base}/oauth`,
      message: `integration '${integration.key}' does not use OAuth`,
    });
  }
  const checkedOAuth = oauth === undefined ? undefined : checkOAuth(oauth, `${base}/oauth`, problems);
  if (draft.delivery?.standardWebhooks && integration.endpoint.hmacSignature === undefined) {
    problems.push({
      pointer: `${base}/delivery/standardWebhooks`,
      message: `integration '${integration.key}' has no hmacSignature secret to sign Standard Webhooks with`,
    });
  }
  if (draft.delivery?.onExhausted !== undefined && draft.delivery.ordering !== "fifo") {
    problems.push({
      pointer: `${base}/delivery/onExhausted`,
      message: 'onExhausted applies to ordered hooks only: set "ordering": "fifo" beside it, or leave it out',
    });
  }
  if (draft.delivery?.tls !== undefined) checkTls(draft.delivery.tls, `${base}/delivery/tls`, problems);
  if (problems.length > 0) return { problems };
  const input: HookInput = {
    integration: integration.key,
    name: draft.name,
    formVariables: form.values as Record<string, FormValue>,
    ...(draft.id !== undefined ? { id: draft.id } : {}),
    ...(draft.on !== undefined ? { on: draft.on } : {}),
    ...(draft.policy ? { policy: draft.policy } : {}),
    ...(draft.delivery !== undefined ? { delivery: draft.delivery } : {}),
    ...(checkedOAuth !== undefined ? { oauth: checkedOAuth } : {}),
  };
  return { hook: { input, secretKeys: integration.secretKeys, warnings }, problems };
}

/**
 * A hook's TLS settings must be what node's TLS will take: PEM that parses (node's own X.509 and
 * key parsers), a key that belongs to its certificate, both or neither. No message quotes a key.
 */
function checkTls(tls: HookTls, base: string, problems: Problem[]): void {
  let cert: X509Certificate | undefined;
  if (tls.cert !== undefined) {
    try {
      cert = new X509Certificate(tls.cert);
    } catch {
      problems.push({
        pointer: `${base}/cert`,
        message: "is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
      });
    }
  }
  let key: KeyObject | undefined;
  if (tls.key !== undefined) {
    try {
      key = createPrivateKey(tls.key);
    } catch {
      problems.push({
        pointer: `${base}/key`,
        message: "is not a PEM private key (-----BEGIN PRIVATE KEY-----)",
      });
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    problems.push({
      pointer: `${base}/${tls.cert === undefined ? "cert" : "key"}`,
      message: "a client certificate needs its key, and a key its certificate: give cert and key together",
    });
  } else if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
    problems.push({ pointer: `${base}/key`, message: "is not the private key of this certificate" });
  }
  if (tls.ca !== undefined) {
    try {
      new X509Certificate(tls.ca);
    } catch {
      problems.push({
        pointer: `${base}/ca`,
        message: "is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
      });
    }
  }
}

const OAUTH_FIELDS: Record<HookOAuth["grant"], { required: string[]; optional: string[] }> = {
  client_credentials: {
    required: ["tokenUrl", "clientId", "clientSecret", "baseURI"],
    optional: ["scope", "clientAuth"],
  },
  authorization_code: {
    required: ["authorizeUrl", "tokenUrl", "clientId", "clientSecret", "baseURI"],
    optional: ["scope", "clientAuth", "accessToken", "refreshToken", "expiresAt"],
  },
  token: {
    required: ["accessToken", "baseURI"],
    optional: ["refreshToken", "expiresAt", "tokenUrl", "clientId", "clientSecret", "scope", "clientAuth"],
  },
};

/** The OAuth settings of a hook, checked field by field; undefined (with problems) when they do not fit. */
function checkOAuth(raw: unknown, at: string, problems: Problem[]): HookOAuth | undefined {
  const before = problems.length;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    problems.push({ pointer: at, message: "must be an object" });
    return undefined;
  }
  const fields = raw as Record<string, unknown>;
  const grant = fields.grant;
  if (grant !== "client_credentials" && grant !== "authorization_code" && grant !== "token") {
    problems.push({
      pointer: `${at}/grant`,
      message: 'must be "client_credentials", "authorization_code" or "token"',
    });
    return undefined;
  }
  const { required, optional } = OAUTH_FIELDS[grant];
  for (const name of required) {
    if (typeof fields[name] !== "string" || fields[name] === "")
      problems.push({ pointer: `${at}/${name}`, message: `is required with the ${grant} grant (a string)` });
  }
  for (const [name, value] of Object.entries(fields)) {
    if (name === "grant" || required.includes(name)) continue;
    if (!optional.includes(name)) {
      problems.push({ pointer: `${at}/${name}`, message: `is not a field of the ${grant} grant` });
    } else if (typeof value !== "string") {
      problems.push({ pointer: `${at}/${name}`, message: "must be a string" });
    }
  }
  for (const name of ["tokenUrl", "authorizeUrl", "baseURI"]) {
    const value = fields[name];
    if (typeof value === "string" && !/^https?:\/\/[^\s]+$/i.test(value))
      problems.push({ pointer: `${at}/${name}`, message: "must be an http(s) URL" });
  }
  if (fields.clientAuth !== undefined && fields.clientAuth !== "basic" && fields.clientAuth !== "post")
    problems.push({
      pointer: `${at}/clientAuth`,
      message: 'must be "basic" (client_secret_basic) or "post"',
    });
  if (typeof fields.expiresAt === "string" && Number.isNaN(Date.parse(fields.expiresAt)))
    problems.push({ pointer: `${at}/expiresAt`, message: "must be an ISO 8601 time" });
  return problems.length === before ? (fields as unknown as HookOAuth) : undefined;
}
