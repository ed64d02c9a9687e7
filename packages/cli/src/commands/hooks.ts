import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { Command } from "../io";
import { ApiCallError, apiTarget, callApi } from "./api-client";

const HELP = `Usage: hookwire hooks <list | get ID | create FILE | delete ID | test ID | replay ID [--since TIME] [--dry-run]>

Manages hooks through the API at HOOKWIRE_URL (default http://localhost:8080) with
HOOKWIRE_API_KEY (default: the key npm start kept in .data/api-key). FILE is a hook in JSON
or YAML: { integration, name, formVariables, policy?, delivery?, on? }.
`;

export const runHooks: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", short: "h" },
      since: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    allowPositionals: true,
  });
  const [action, argument] = positionals;
  if (values.help || action === undefined) {
    io.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const target = await apiTarget();
  const print = (value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  try {
    switch (action) {
      case "list": {
        const { hooks } = (await callApi(target, "GET", "/v1/hooks")) as { hooks: Record<string, unknown>[] };
        for (const hook of hooks) {
          const health = hook.health as { circuit?: string; consecutiveFailures?: number } | undefined;
          io.stdout.write(
            `${hook.id}\t${hook.on ? "on " : "off"}\t${hook.integration}\t${hook.name}\tcircuit=${health?.circuit ?? "closed"} failures=${health?.consecutiveFailures ?? 0}\n`,
          );
        }
        return 0;
      }
      case "get":
      case "delete":
      case "test":
      case "replay":
      case "create":
        break;
      default:
        io.stderr.write(`hookwire hooks: unknown action '${action}'\n\n${HELP}`);
        return 2;
    }
    if (argument === undefined) {
      io.stderr.write(`hookwire hooks ${action}: give ${action === "create" ? "a FILE" : "a hook ID"}\n`);
      return 2;
    }
    const id = encodeURIComponent(argument);
    if (action === "get") print(await callApi(target, "GET", `/v1/hooks/${id}`));
    else if (action === "delete") {
      await callApi(target, "DELETE", `/v1/hooks/${id}`);
      io.stdout.write(`deleted ${argument}\n`);
    } else if (action === "test") print(await callApi(target, "POST", `/v1/hooks/${id}/test`));
    else if (action === "replay") {
      print(
        await callApi(target, "POST", `/v1/hooks/${id}/replay`, {
          ...(values.since ? { since: values.since } : {}),
          dryRun: values["dry-run"] === true,
        }),
      );
    } else print(await callApi(target, "POST", "/v1/hooks", parseYaml(await readFile(argument, "utf8"))));
    return 0;
  } catch (error) {
    if (!(error instanceof ApiCallError) && (error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    io.stderr.write(`hookwire hooks: ${(error as Error).message}\n`);
    return 1;
  }
};
