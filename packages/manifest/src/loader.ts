import { readdir, readFile, stat } from "node:fs/promises";
import { basename, delimiter, isAbsolute, join, relative, resolve } from "node:path";
import { type CompiledTemplate, compileTemplate, findJsonFault, TemplateError } from "@hookwire/templates";
import type { ManifestProblem } from "./errors";
import type { FormVariable, Integration, TemplateKey } from "./integration";
import {
  checkDefaultPolicy,
  checkFormVariables,
  checkSignature,
  compileEndpointTemplate,
  HOOK_POINTER,
  type RuleContext,
} from "./manifest-rules";
import { endpointTemplates } from "./request";
import { describeSchemaError, KNOWN_MANIFEST_FIELDS, manifestValidator } from "./schema";
import { urlHostIsFixed } from "./url-host";

/** The part of a manifest the loader reads, once the schema has vouched for its shape. */
interface HookCapability {
  endpoint?: {
    url: string;
    method: string;
    headers?: { name: string; value: string }[];
    hmacSignature?: { headerName: string; hmacSecretFormVariableKey: string };
  };
  templates?: Partial<Record<TemplateKey, string>>;
  defaultPolicy?: unknown[];
  includeErrorResponseBody?: boolean;
  deliveryMethod?: "custom";
  useStandardWebhookPayload?: boolean;
}

interface CheckedManifest {
  name: string;
  requiresOAuth?: boolean;
  formVariables?: FormVariable[];
  capabilities: Record<string, unknown> & { auditLogEventsHook?: HookCapability };
}

export interface LoadResult {
  integration?: Integration;
  problems: ManifestProblem[];
}

/**
 * Loads one integration folder: `manifest.json` and the templates it names. Never throws for
 * a bad integration: it comes back without `integration`, with every problem found.
 */
export async function loadIntegration(dir: string): Promise<LoadResult> {
  const file = join(dir, "manifest.json");
  const context: RuleContext = { file, problems: [], notices: [] };

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (failure) {
    const reason =
      (failure as NodeJS.ErrnoException).code === "ENOENT" ? "there is no manifest.json" : String(failure);
    return {
      problems: [{ file, code: "MANIFEST_ERR_READ", message: `cannot read the manifest: ${reason}` }],
    };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const fault = findJsonFault(text);
    const where =
      fault === undefined ? "" : ` at line ${fault.line}, column ${fault.column}: expected ${fault.expected}`;
    return {
      problems: [
        {
          file,
          line: fault?.line,
          code: "MANIFEST_ERR_JSON",
          message: `the manifest is not valid JSON${where}`,
        },
      ],
    };
  }

  const validate = manifestValidator();
  if (!validate(parsed)) {
    const problems = (validate.errors ?? []).map((error): ManifestProblem => {
      const { pointer, message } = describeSchemaError(error);
      return { file, pointer, code: "MANIFEST_ERR_SCHEMA", message };
    });
    return { problems };
  }
  const manifest = parsed as CheckedManifest;

  for (const field of Object.keys(manifest)) {
    if (!KNOWN_MANIFEST_FIELDS.has(field)) {
      context.notices.push({
        file,
        pointer: `/${field}`,
        code: "MANIFEST_NOTE_IGNORED_FIELD",
        message: `"${field}" is not a manifest field hookwire knows; it is ignored`,
      });
    }
  }
  for (const capability of Object.keys(manifest.capabilities)) {
    if (capability === "auditLogEventsHook") continue;
    context.notices.push({
      file,
      pointer: `/capabilities/${capability}`,
      code: "MANIFEST_NOTE_IGNORED_CAPABILITY",
      message: `hookwire delivers only auditLogEventsHook; the "${capability}" capability is ignored`,
    });
  }

  const hook = manifest.capabilities.auditLogEventsHook;
  if (hook === undefined) {
    return {
      problems: [
        {
          file,
          pointer: "/capabilities",
          code: "MANIFEST_ERR_NO_AUDIT_LOG_HOOK",
          message:
            "the manifest has no auditLogEventsHook capability: there is nothing for hookwire to deliver",
        },
      ],
    };
  }

  const variables = manifest.formVariables ?? [];
  const requiresOAuth = manifest.requiresOAuth === true;
  checkFormVariables(variables, context);
  checkSignature(hook.endpoint?.hmacSignature, variables, context);
  checkDefaultPolicy(hook.defaultPolicy, context);

  const deliverable = hook.deliveryMethod !== "custom";
  if (!deliverable) {
    context.notices.push({
      file,
      pointer: `${HOOK_POINTER}/deliveryMethod`,
      code: "MANIFEST_NOTE_CUSTOM_DELIVERY",
      message:
        "deliveryMethod is custom: LaunchDarkly delivers it with its own code, so hookwire cannot deliver it",
    });
  } else if (hook.endpoint === undefined) {
    context.problems.push({
      file,
      pointer: `${HOOK_POINTER}/endpoint`,
      code: "MANIFEST_ERR_NO_ENDPOINT",
      message: "an auditLogEventsHook needs an endpoint (only a custom delivery method goes without)",
    });
  }
  if (requiresOAuth) {
    context.notices.push({
      file,
      pointer: "/requiresOAuth",
      code: "MANIFEST_NOTE_OAUTH",
      message:
        "the integration authenticates with OAuth: its hooks must be given an OAuth base URI and access token",
    });
  }

  const endpoint = {
    url: hook.endpoint?.url ?? "",
    method: hook.endpoint?.method ?? "POST",
    headers: hook.endpoint?.headers ?? [],
    ...(hook.endpoint?.hmacSignature === undefined ? {} : { hmacSignature: hook.endpoint.hmacSignature }),
  };
  const url =
    hook.endpoint === undefined
      ? undefined
      : compileEndpointTemplate(
          endpoint.url,
          `${HOOK_POINTER}/endpoint/url`,
          variables,
          requiresOAuth,
          context,
        );
  const headers = endpoint.headers.map((header, index) => {
    const pointer = `${HOOK_POINTER}/endpoint/headers/${index}/value`;
    return {
      name: header.name,
      value: compileEndpointTemplate(header.value, pointer, variables, requiresOAuth, context),
    };
  });

  const useStandardWebhookPayload = hook.useStandardWebhookPayload === true;
  const templatePaths = Object.entries(hook.templates ?? {}) as [TemplateKey, string][];
  if (useStandardWebhookPayload && templatePaths.length > 0) {
    context.problems.push({
      file,
      pointer: `${HOOK_POINTER}/templates`,
      code: "MANIFEST_ERR_TEMPLATES_WITH_STANDARD_PAYLOAD",
      message:
        "useStandardWebhookPayload sends the entry itself: the templates would never be used; remove one or the other",
    });
  }
  const templates = await loadTemplates(dir, templatePaths, context);

  if (context.problems.length > 0) return { problems: context.problems };
  const secretKeys = new Set(variables.filter((v) => v.isSecret === true).map((v) => v.key));
  const request = endpointTemplates(
    // A custom delivery has no endpoint: an empty URL, which the sender refuses.
    url ?? compileTemplate("", `${file}#${HOOK_POINTER}/endpoint/url`),
    headers.flatMap(({ name, value }) => (value === undefined ? [] : [{ name, value }])),
    secretKeys,
  );
  const integration: Integration = {
    key: basename(resolve(dir)),
    name: manifest.name,
    dir,
    manifest: manifest as unknown as Record<string, unknown>,
    formVariables: variables,
    secretKeys,
    endpoint,
    request,
    templates,
    useStandardWebhookPayload,
    includeErrorResponseBody: hook.includeErrorResponseBody === true,
    urlHostIsFixed: url !== undefined && urlHostIsFixed(url, variables),
    defaultPolicy: hook.defaultPolicy ?? [],
    requiresOAuth,
    deliverable,
    notices: context.notices,
  };
  return { integration, problems: [] };
}

async function loadTemplates(
  dir: string,
  paths: readonly [TemplateKey, string][],
  context: RuleContext,
): Promise<Partial<Record<TemplateKey, CompiledTemplate>>> {
  const templates: Partial<Record<TemplateKey, CompiledTemplate>> = {};
  const root = resolve(dir);
  for (const [key, path] of paths) {
    const pointer = `${HOOK_POINTER}/templates/${key}`;
    const full = resolve(root, path);
    const inside = relative(root, full);
    if (isAbsolute(path) || inside.startsWith("..") || isAbsolute(inside)) {
      context.problems.push({
        file: context.file,
        pointer,
        code: "MANIFEST_ERR_TEMPLATE_PATH",
        message: `"${path}" is outside the integration's folder: templates are read from inside it only`,
      });
      continue;
    }
    const templateFile = join(dir, path);
    let text: string;
    try {
      text = await readFile(full, "utf8");
    } catch {
      context.problems.push({
        file: context.file,
        pointer,
        code: "MANIFEST_ERR_TEMPLATE_MISSING",
        message: `the ${key} template "${path}" does not exist`,
      });
      continue;
    }
    try {
      const template = compileTemplate(text, templateFile);
      templates[key] = template;
      for (const helper of template.analysis.unknownHelpers) {
        context.notices.push({
          file: templateFile,
          line: helper.line,
          code: "MANIFEST_NOTE_UNKNOWN_HELPER",
          message: `"${helper.name}" is not a helper of the framework: rendering fails where it is called`,
        });
      }
    } catch (failure) {
      const error = failure instanceof TemplateError ? failure : undefined;
      context.problems.push({
        file: templateFile,
        line: error?.line,
        code: "MANIFEST_ERR_TEMPLATE_COMPILE",
        message: error?.message ?? String(failure),
      });
    }
  }
  return templates;
}

export interface Catalog {
  get(key: string): Integration | undefined;
  list(): Integration[];
  /** Integrations that did not load, and folders that could not be read. */
  problems: ManifestProblem[];
  /** What loading noticed without refusing anything. */
  notices: ManifestProblem[];
}

/**
 * Loads every `<key>/manifest.json` under the given folders. A broken integration is reported
 * in `problems` and left out; the others load. When two folders hold the same key, the later
 * folder's integration replaces the earlier one (so HOOKWIRE_INTEGRATIONS_DIR can override the
 * shipped catalog), with a notice.
 */
export async function loadCatalog(dirs: readonly string[]): Promise<Catalog> {
  const problems: ManifestProblem[] = [];
  const notices: ManifestProblem[] = [];
  const byKey = new Map<string, Integration>();

  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true }))
        .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith("."))
        .map((entry) => entry.name)
        .sort();
    } catch (failure) {
      problems.push({
        file: dir,
        code: "MANIFEST_ERR_CATALOG_DIR",
        message: `cannot read the catalog folder: ${String(failure)}`,
      });
      continue;
    }
    const results = await Promise.all(
      names.map(async (name) => {
        const folder = join(dir, name);
        const hasManifest = await stat(join(folder, "manifest.json")).then(
          (s) => s.isFile(),
          () => false,
        );
        return { folder, hasManifest, result: hasManifest ? await loadIntegration(folder) : undefined };
      }),
    );
    for (const { folder, hasManifest, result } of results) {
      if (!hasManifest || result === undefined) {
        notices.push({
          file: folder,
          code: "MANIFEST_NOTE_NOT_AN_INTEGRATION",
          message: "the folder has no manifest.json; it is skipped",
        });
        continue;
      }
      problems.push(...result.problems);
      const integration = result.integration;
      if (integration === undefined) continue;
      const earlier = byKey.get(integration.key);
      if (earlier !== undefined) {
        notices.push({
          file: join(folder, "manifest.json"),
          code: "MANIFEST_NOTE_REPLACED",
          message: `integration "${integration.key}" replaces the one in ${earlier.dir}`,
        });
      }
      byKey.set(integration.key, integration);
    }
  }

  for (const integration of byKey.values()) notices.push(...integration.notices);
  const list = [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  return {
    get: (key) => byKey.get(key),
    list: () => [...list],
    problems,
    notices,
  };
}

/** The catalog folders: the project's `integrations/` then each folder of HOOKWIRE_INTEGRATIONS_DIR. */
export function catalogDirs(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.HOOKWIRE_INTEGRATIONS_DIR ?? "")
    .split(delimiter)
    .map((dir) => dir.trim())
    .filter((dir) => dir !== "");
  return [join(projectRoot, "integrations"), ...extra.map((dir) => resolve(projectRoot, dir))];
}
