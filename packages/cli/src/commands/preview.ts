/**
 * `hookwire preview DIR --context FILE [--form key=value]... [--json | --curl]`: renders exactly
 * what a hook of the integration would send for one entry, without sending it. Form values
 * missing from the command line get the framework preview's placeholders.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { normaliseEntry } from "@hookwire/entries";
import {
  coerceFormValue,
  describeProblemLocation,
  type FormValues,
  type Integration,
  loadIntegration,
  type Preview,
  previewRequest,
  TEMPLATE_KEYS,
  type TemplateKey,
} from "@hookwire/manifest";
import { TemplateError } from "@hookwire/templates";
import type { Command, CommandIO } from "../io";

const HELP = `Usage: hookwire preview DIR --context FILE [--form key=value]... [--template KEY] [--json | --curl]

Renders the request a hook of the integration in DIR would send for the entry in FILE (either
entry shape; it is normalised as ingest does), and prints it without sending anything.

  --form key=value   a form variable's value, repeatable. A boolean variable takes true or
                     false; others take the text as it is. A variable not given gets its default,
                     else a placeholder as in the framework's preview: $KEY, or true for a boolean.
  --template KEY     render this template (e.g. validation) instead of the one for the entry's kind
  --json             print one JSON object:
                       {"method", "url", "headers": [{"name", "value"}], "body", "template", "warnings"}
                     body is the exact text, or null when nothing would be sent.
  --curl             print a curl command that sends the same request

A .json template whose output is not valid JSON is still shown, with a warning (delivery would
refuse it). Exit status: 0 when rendered; 1 when the integration or the entry is not valid or
the template fails; 2 for bad usage.
`;

class UsageError extends Error {}

export const runPreview: Command = async (argv, io) => {
  let values: {
    context?: string;
    form?: string[];
    template?: string;
    json?: boolean;
    curl?: boolean;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        context: { type: "string" },
        form: { type: "string", multiple: true },
        template: { type: "string" },
        json: { type: "boolean" },
        curl: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    }));
    if (values.help !== true) {
      if (positionals.length !== 1) throw new UsageError("give exactly one integration folder");
      if (values.context === undefined) throw new UsageError("--context FILE is required");
      if (values.json === true && values.curl === true)
        throw new UsageError("--json and --curl do not go together");
      if (values.template !== undefined && !TEMPLATE_KEYS.includes(values.template as TemplateKey)) {
        throw new UsageError(`--template must be one of ${TEMPLATE_KEYS.join(", ")}`);
      }
    }
  } catch (error) {
    io.stderr.write(`hookwire preview: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }

  const { integration, problems } = await loadIntegration(resolve(positionals[0] as string));
  if (integration === undefined) {
    for (const p of problems) io.stderr.write(`${describeProblemLocation(p)}: ${p.message} [${p.code}]\n`);
    return 1;
  }

  let given: FormValues;
  try {
    given = parseForm(integration, values.form ?? []);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`hookwire preview: ${error.message}\n`);
    return 2;
  }

  const read = await readEntry(resolve(values.context as string), io);
  if (read === undefined) return 1;

  let preview: Preview;
  try {
    preview = previewRequest(
      integration,
      read.entry,
      given,
      values.template as TemplateKey | undefined,
      read.posted,
    );
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    io.stderr.write(`hookwire preview: ${error.message} [${error.code}]\n`);
    return 1;
  }

  if (values.json === true) io.stdout.write(`${JSON.stringify(preview, null, 2)}\n`);
  else if (values.curl === true) io.stdout.write(`${curlCommand(preview)}\n`);
  else io.stdout.write(plainText(preview));
  if (values.json !== true) for (const warning of preview.warnings) io.stderr.write(`warning: ${warning}\n`);
  return 0;
};

/** `key=value` pairs, each coerced by its variable's type. */
function parseForm(integration: Integration, pairs: readonly string[]): FormValues {
  const given: FormValues = {};
  for (const pair of pairs) {
    const split = pair.indexOf("=");
    if (split <= 0) throw new UsageError(`--form takes key=value, got "${pair}"`);
    const key = pair.slice(0, split);
    const variable = integration.formVariables.find((v) => v.key === key);
    if (variable === undefined) {
      const keys = integration.formVariables.map((v) => v.key).join(", ") || "none";
      throw new UsageError(`"${key}" is not a form variable of ${integration.key} (it has: ${keys})`);
    }
    const value = coerceFormValue(variable, pair.slice(split + 1));
    if (value === undefined) throw new UsageError(`"${key}" is a boolean: give true or false`);
    given[key] = value;
  }
  return given;
}

/** The entry of the file as it is there (the standard payload), and as templates see it. */
async function readEntry(
  file: string,
  io: CommandIO,
): Promise<{ posted: object; entry: object } | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    io.stderr.write(`hookwire preview: cannot read the entry ${file}: ${(error as Error).message}\n`);
    return undefined;
  }
  const result = normaliseEntry(parsed);
  if (result.entry === undefined) {
    for (const issue of result.issues) io.stderr.write(`${file}#${issue.pointer}: ${issue.message}\n`);
    return undefined;
  }
  return { posted: parsed as object, entry: result.entry };
}

function plainText(preview: Preview): string {
  const lines = [`${preview.method} ${preview.url}`, ...preview.headers.map((h) => `${h.name}: ${h.value}`)];
  const body = preview.body === null ? "(no body: nothing would be sent)" : preview.body;
  return `${lines.join("\n")}\n\n${body}${body.endsWith("\n") ? "" : "\n"}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function curlCommand(preview: Preview): string {
  const parts = [`curl -X ${preview.method} ${shellQuote(preview.url)}`];
  for (const header of preview.headers) parts.push(`-H ${shellQuote(`${header.name}: ${header.value}`)}`);
  if (preview.body !== null) parts.push(`--data-binary ${shellQuote(preview.body)}`);
  return parts.join(" \\\n  ");
}
