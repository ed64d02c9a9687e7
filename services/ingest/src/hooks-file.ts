import { readFile } from "node:fs/promises";
import type { Catalog } from "@hookwire/manifest";
import type { HookStore } from "@hookwire/store";
import { parse as parseYaml } from "yaml";
import { type CheckedHook, checkHook, type HookDraft } from "./hook-input";

export class HooksFileError extends Error {
  override readonly name = "HooksFileError";
  readonly code = "API_ERR_HOOKS_FILE";
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`hooks file ${file}:\n  ${problems.join("\n  ")}`);
  }
}

export interface AppliedHooks {
  created: string[];
  updated: string[];
}

/**
 * Declarative hooks for configuration kept in git (HOOKWIRE_HOOKS_FILE): YAML or JSON, either a
 * list of hooks or `{ hooks: [...] }`, each with an `id`. Strings may reference environment
 * variables as `${NAME}`, so secrets stay out of the file. Every hook is checked before any is
 * written; then each is created or replaced by id. Hooks not in the file are left alone.
 */
export async function applyHooksFile(
  file: string,
  catalog: Catalog,
  store: HookStore,
  env: Record<string, string | undefined> = process.env,
): Promise<AppliedHooks> {
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, "utf8"));
  } catch (error) {
    throw new HooksFileError(file, [`cannot be read as YAML or JSON: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  const list = Array.isArray(parsed) ? parsed : (parsed as { hooks?: unknown } | null)?.hooks;
  const base = Array.isArray(parsed) ? "" : "/hooks";
  if (!Array.isArray(list))
    throw new HooksFileError(file, ["expected a list of hooks, or an object with a 'hooks' list"]);

  const checked: CheckedHook[] = [];
  list.forEach((item: unknown, index) => {
    const pointer = `${base}/${index}`;
    const draft = substitute(item, `${pointer}`, env, problems) as HookDraft | undefined;
    if (draft === null || typeof draft !== "object" || Array.isArray(draft)) {
      problems.push(`${pointer}: expected a hook object`);
      return;
    }
    if (typeof draft.id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(draft.id)) {
      problems.push(`${pointer}/id: every hook in the file needs an id of 1 to 64 of A-Z a-z 0-9 _ -`);
    }
    if (typeof draft.name !== "string" || draft.name === "")
      problems.push(`${pointer}/name: a name is required`);
    if (typeof draft.integration !== "string") {
      problems.push(`${pointer}/integration: an integration key is required`);
      return;
    }
    const result = checkHook(draft, catalog, pointer);
    for (const problem of result.problems) problems.push(`${problem.pointer}: ${problem.message}`);
    if (result.hook) checked.push(result.hook);
  });
  if (problems.length > 0) throw new HooksFileError(file, problems);

  const applied: AppliedHooks = { created: [], updated: [] };
  for (const hook of checked) {
    const { created } = await store.put({ ...hook.input, id: hook.input.id! }, hook.secretKeys);
    (created ? applied.created : applied.updated).push(hook.input.id!);
  }
  return applied;
}

/** Replaces `${NAME}` in every string with the environment's value; a missing one is a problem. */
function substitute(
  value: unknown,
  pointer: string,
  env: Record<string, string | undefined>,
  problems: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`${pointer}: environment variable ${name} is not set`);
        return "";
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, `${pointer}/${i}`, env, problems));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
      out[key] = substitute(item, `${pointer}/${key}`, env, problems);
    }
    return out;
  }
  return value;
}
