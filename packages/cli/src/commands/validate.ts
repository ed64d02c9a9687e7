/**
 * `hookwire validate DIR... [--contexts DIR]`: checks integrations as an author writes them.
 * Loads each integration (manifest schema, the framework's rules, every template compiling);
 * with sample contexts, renders the URL and headers strictly against every context of an entry
 * kind, and each body template strictly against the contexts of the kind it serves (see
 * `pairsOf`), and leniently to check that a JSON template gives JSON. Every problem is listed;
 * exit 1 when there is any.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { normaliseEntry } from "@hookwire/entries";
import {
  checkFrameworkRules,
  describeProblemLocation,
  type FormValues,
  type Integration,
  KIND_TEMPLATES,
  loadIntegration,
  type ManifestProblem,
  placeholderFormValues,
  renderBody,
  renderRequest,
  type TemplateKey,
} from "@hookwire/manifest";
import { type CompiledTemplate, TemplateError } from "@hookwire/templates";
import type { Command } from "../io";

const HELP = `Usage: hookwire validate DIR... [--contexts DIR] [--framework]

DIR is an integration folder (holding manifest.json) or a catalog folder of them.

Checks each integration: the manifest against hookwire's schema and the framework's rules
(secrets only on string variables, defaultValue only with isOptional, the HMAC key a secret
variable, no templates with useStandardWebhookPayload), and that every template compiles.

  --contexts DIR   sample entries (*.json, searched recursively; a file works too), paired with
                   templates by kind as the framework's own test pairs them: a kind's template
                   with that kind's entries, default with flag, project and environment entries
                   that have no template of their own, validation with one entry (of kind
                   environment if there is one). The URL and headers are rendered with every
                   flag, project, environment and member entry. Rendering is strict: a field a
                   template reads that the entry lacks is a problem, with its file and line.
                   A .json template must render valid JSON, a validation template something.
                   Form variables get placeholder values; booleans are true. Each integration's
                   line says which templates were rendered how often.

  --framework      also report what LaunchDarkly's review of the integration (the framework's
                   schema and CI tests) would reject, though hookwire runs it: a missing or
                   non-semver version, missing icons (or icon files), an unknown category,
                   capability or field, a bad supportEmail or link, a form variable without a
                   description, an overview without a final period, an unknown helper. With
                   --contexts, each template must also render valid JSON for its kind.

Exit status: 0 when everything is valid (notices are printed but do not count), 1 when there
is any problem, 2 for bad usage.
`;

interface Problem {
  where: string;
  message: string;
  code: string;
  /** The sample context it showed with; the same problem with several contexts is listed once. */
  context?: string;
}

interface SampleContext {
  name: string;
  entry: object;
}

export const runValidate: Command = async (argv, io) => {
  let values: { contexts?: string[]; framework?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        contexts: { type: "string", multiple: true },
        framework: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    }));
  } catch (error) {
    io.stderr.write(`hookwire validate: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    io.stderr.write(`hookwire validate: give at least one integration folder\n\n${HELP}`);
    return 2;
  }

  const cwd = process.cwd();
  const show = (path: string) => {
    const rel = relative(cwd, path);
    return rel === "" || rel.startsWith("..") ? path : rel;
  };
  const problems: Problem[] = [];
  const notices: string[] = [];

  const contexts: SampleContext[] = [];
  for (const source of values.contexts ?? []) {
    contexts.push(...(await readContexts(resolve(source), show, problems)));
  }

  const folders: string[] = [];
  for (const dir of positionals) folders.push(...(await integrationFolders(resolve(dir), show, problems)));

  let valid = 0;
  for (const folder of folders) {
    const before = problems.length;
    const { integration, problems: found } = await loadIntegration(folder);
    for (const p of found) problems.push(fromManifest(p, show));
    if (values.framework === true) {
      for (const p of await frameworkProblems(folder)) problems.push(fromManifest(p, show));
    }
    let rendered = "";
    if (integration !== undefined) {
      for (const n of integration.notices) {
        // The framework's review refuses what hookwire only notes: an unknown helper.
        if (values.framework === true && n.code === "MANIFEST_NOTE_UNKNOWN_HELPER")
          problems.push(fromManifest(n, show));
        else notices.push(`${locate(n, show)}: ${n.message}`);
      }
      if (contexts.length > 0) {
        const { pairs, paired, unpaired } = pairsOf(integration, contexts);
        for (const context of paired) renderEndpoint(integration, context, show, problems);
        for (const pair of pairs) renderPair(integration, pair, show, problems);
        rendered = ` (${describePairs(pairs, unpaired)})`;
      }
    }
    const count = grouped(problems.slice(before)).length;
    if (count === 0) valid++;
    io.stdout.write(
      count === 0
        ? `ok       ${show(folder)}${rendered}\n`
        : `invalid  ${show(folder)}: ${count} problem${count === 1 ? "" : "s"}${rendered}\n`,
    );
  }

  for (const notice of notices) io.stderr.write(`notice: ${notice}\n`);
  const lines = grouped(problems);
  for (const line of lines) io.stdout.write(`${line}\n`);
  const invalid = folders.length - valid;
  io.stdout.write(
    `${folders.length} integration${folders.length === 1 ? "" : "s"}: ${valid} valid, ${invalid} invalid; ${lines.length} problem${lines.length === 1 ? "" : "s"}\n`,
  );
  return lines.length === 0 ? 0 : 1;
};

function grouped(problems: readonly Problem[]): string[] {
  const groups = new Map<string, { problem: Problem; contexts: string[] }>();
  for (const problem of problems) {
    const key = `${problem.where}\u0000${problem.message}\u0000${problem.code}`;
    const group = groups.get(key) ?? { problem, contexts: [] };
    if (problem.context !== undefined) group.contexts.push(problem.context);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ problem, contexts }) => {
    const shown =
      contexts.length <= 3
        ? contexts.join(", ")
        : `${contexts.slice(0, 3).join(", ")} and ${contexts.length - 3} more`;
    const where = contexts.length === 0 ? "" : ` (context${contexts.length === 1 ? "" : "s"} ${shown})`;
    return `${problem.where}: ${problem.message}${where} [${problem.code}]`;
  });
}

/** A message without the file (and line) it starts with, when the location is shown apart. */
function withoutFile(message: string, file: string | undefined): string {
  if (file === undefined || !message.startsWith(file)) return message;
  return message.slice(file.length).replace(/^(:\d+)*:?\s*/, "");
}

function locate(problem: ManifestProblem, show: (path: string) => string): string {
  return describeProblemLocation({ ...problem, file: show(problem.file) });
}

function fromManifest(problem: ManifestProblem, show: (path: string) => string): Problem {
  // A template's compile message starts with its file and line, shown apart here.
  return {
    where: locate(problem, show),
    message: withoutFile(problem.message, problem.file),
    code: problem.code,
  };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** An integration folder itself, or the integration folders inside a catalog folder. */
async function integrationFolders(
  dir: string,
  show: (path: string) => string,
  problems: Problem[],
): Promise<string[]> {
  if (await isFile(join(dir, "manifest.json"))) return [dir];
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    problems.push({
      where: show(dir),
      message: "is not a folder that can be read",
      code: "VALIDATE_ERR_DIR",
    });
    return [];
  }
  const folders: string[] = [];
  for (const name of names) if (await isFile(join(dir, name, "manifest.json"))) folders.push(join(dir, name));
  if (folders.length === 0) {
    problems.push({
      where: show(dir),
      message: "holds no manifest.json, nor folders holding one",
      code: "VALIDATE_ERR_DIR",
    });
  }
  return folders;
}

async function jsonFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const files: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) files.push(...(await jsonFiles(full)));
    else if (entry.name.endsWith(".json")) files.push(full);
  }
  return files;
}

async function readContexts(
  source: string,
  show: (path: string) => string,
  problems: Problem[],
): Promise<SampleContext[]> {
  let files: string[];
  try {
    files = await jsonFiles(source);
  } catch {
    problems.push({ where: show(source), message: "cannot be read", code: "VALIDATE_ERR_CONTEXTS" });
    return [];
  }
  const contexts: SampleContext[] = [];
  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      const message = `is not JSON: ${(error as Error).message}`;
      problems.push({ where: show(file), message, code: "VALIDATE_ERR_CONTEXT" });
      continue;
    }
    // Normalised as ingest does, so the templates see what they would see in delivery.
    const result = normaliseEntry(parsed);
    if (result.entry === undefined) {
      for (const issue of result.issues) {
        problems.push({
          where: `${show(file)}#${issue.pointer}`,
          message: `is not an entry: ${issue.message}`,
          code: "VALIDATE_ERR_CONTEXT",
        });
      }
      continue;
    }
    contexts.push({ name: show(file), entry: result.entry });
  }
  return contexts;
}

function oauthPlaceholder(integration: Integration) {
  return integration.requiresOAuth
    ? { baseURI: "https://oauth.example", accessToken: "$OAUTH_ACCESS_TOKEN" }
    : null;
}

/** The framework review's findings on the manifest in `folder` (none if it cannot be read: loading said so). */
async function frameworkProblems(folder: string): Promise<ManifestProblem[]> {
  const file = join(folder, "manifest.json");
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return [];
  }
  return checkFrameworkRules(manifest, file);
}

/** A body template rendered against one context (see `pairsOf`). */
interface Pair {
  key: TemplateKey;
  context: SampleContext;
}

/**
 * Which body template is rendered against which context, as the framework's own test pairs them
 * (its validateIntegrationManifests: flag, project and environment templates each with a context
 * of their kind, `default` with a flag context, `validation` with an environment context): a
 * kind's own template with the contexts of that kind; `default` with the flag, project and
 * environment contexts whose kind has no template of its own; `validation` with one context (the
 * first of kind environment, else the first). Member contexts go to a member template only: the
 * framework renders none, and a member entry has none of the fields a default template is
 * written for (it renders them empty when delivered). A context of another kind (a metric, a
 * segment) has no template of its own either: it is left out, `unpaired`.
 */
function pairsOf(
  integration: Integration,
  contexts: readonly SampleContext[],
): { pairs: Pair[]; paired: SampleContext[]; unpaired: number } {
  const pairs: Pair[] = [];
  const paired: SampleContext[] = [];
  let unpaired = 0;
  for (const context of contexts) {
    const kind = (context.entry as { kind?: unknown }).kind;
    if (typeof kind !== "string" || !KIND_TEMPLATES.has(kind)) {
      unpaired++;
      continue;
    }
    paired.push(context);
    if (integration.useStandardWebhookPayload) continue;
    const key: TemplateKey | undefined =
      integration.templates[kind as TemplateKey] !== undefined
        ? (kind as TemplateKey)
        : integration.templates.default !== undefined && kind !== "member"
          ? "default"
          : undefined;
    if (key !== undefined) pairs.push({ key, context });
    else unpaired++;
  }
  const validating =
    paired.find((context) => (context.entry as { kind?: unknown }).kind === "environment") ??
    paired[0] ??
    contexts[0];
  if (integration.templates.validation !== undefined && validating !== undefined)
    pairs.push({ key: "validation", context: validating });
  return { pairs, paired, unpaired };
}

/** "default × 6, project × 3, validation × 1": the pairs rendered, by template. */
function describePairs(pairs: readonly Pair[], unpaired: number): string {
  const counts = new Map<TemplateKey, number>();
  for (const { key } of pairs) counts.set(key, (counts.get(key) ?? 0) + 1);
  const rendered = [...counts].map(([key, n]) => `${key} × ${n}`).join(", ");
  const left =
    unpaired === 0
      ? ""
      : `; ${unpaired} context${unpaired === 1 ? "" : "s"} left out, no template of ${unpaired === 1 ? "its" : "their"} kind`;
  return `rendered ${rendered === "" ? "no template" : rendered}${left}`;
}

/** Renders the URL and the headers against one context. */
function renderEndpoint(
  integration: Integration,
  context: SampleContext,
  show: (path: string) => string,
  problems: Problem[],
): void {
  try {
    renderRequest(
      integration,
      placeholderFormValues(integration),
      context.entry,
      oauthPlaceholder(integration),
      {
        strict: true,
      },
    );
  } catch (error) {
    problems.push(...fromRender(error, "endpoint", context.name, show));
  }
}

/** Renders one body template against one context: leniently (JSON checked), then strictly. */
function renderPair(
  integration: Integration,
  { key: templateKey, context }: Pair,
  show: (path: string) => string,
  problems: Problem[],
): void {
  const formValues: FormValues = placeholderFormValues(integration);
  const add = (error: unknown) =>
    problems.push(...fromRender(error, `${templateKey} template`, context.name, show));
  try {
    const { body } = renderBody(integration, context.entry, formValues, { templateKey });
    if (body === null && templateKey === "validation") {
      problems.push({
        where: show((integration.templates.validation as CompiledTemplate).file),
        message: "the validation template renders nothing: the test call would send nothing",
        code: "VALIDATE_ERR_EMPTY_VALIDATION",
        context: context.name,
      });
    }
  } catch (error) {
    add(error);
  }
  try {
    renderBody(integration, context.entry, formValues, { templateKey, strict: true, checkJson: false });
  } catch (error) {
    if (!(error instanceof TemplateError && error.code === "TEMPLATES_ERR_INVALID_JSON")) add(error);
  }
}

function fromRender(
  error: unknown,
  what: string,
  context: string,
  show: (path: string) => string,
): Problem[] {
  if (!(error instanceof TemplateError)) {
    return [{ where: what, message: String(error), code: "VALIDATE_ERR_RENDER", context }];
  }
  const file = show(error.file ?? what);
  if (error.code === "TEMPLATES_ERR_MISSING_FIELD") {
    return error.missing.map((m) => ({
      where: `${file}:${m.line}:${m.column}`,
      message: `missing field "${m.field}"${m.field === m.segment ? "" : ` ("${m.segment}" is not there)`}`,
      code: error.code,
      context,
    }));
  }
  // An invalid-JSON line is a line of the rendered text, told in the message: not the template's.
  const at = error.code === "TEMPLATES_ERR_INVALID_JSON" || error.line === undefined ? "" : `:${error.line}`;
  const where = `${file}${at}${at !== "" && error.column !== undefined ? `:${error.column}` : ""}`;
  return [{ where, message: withoutFile(error.message, error.file), code: error.code, context }];
}
