import { parseArgs } from "node:util";
import type { Command } from "../io";
import { ApiCallError, apiTarget, callApi } from "./api-client";

const HELP = `Usage: hookwire deliveries <list [--hook ID] [--entry ID] [--status S] [--limit N] | get ID | retry ID>

Follows deliveries through the API at HOOKWIRE_URL (default http://localhost:8080) with
HOOKWIRE_API_KEY (default: the key npm start kept in .data/api-key). Status is one of
pending, succeeded, failed, skipped.
`;

interface Attempt {
  attempt: number;
  statusCode?: number;
  errorCode?: string;
  durationMs: number;
}
interface Delivery {
  id: string;
  status: string;
  acceptedAt: number;
  reason?: string;
  attempts: Attempt[];
}

export const runDeliveries: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", short: "h" },
      hook: { type: "string" },
      entry: { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
    },
    allowPositionals: true,
  });
  const [action, argument] = positionals;
  if (values.help || action === undefined) {
    io.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const target = await apiTarget();
  try {
    if (action === "list") {
      const query = new URLSearchParams();
      if (values.hook) query.set("hookId", values.hook);
      if (values.entry) query.set("entryId", values.entry);
      if (values.status) query.set("status", values.status);
      query.set("limit", values.limit ?? "20");
      const { deliveries } = (await callApi(target, "GET", `/v1/deliveries?${query}`)) as {
        deliveries: Delivery[];
      };
      for (const d of deliveries) {
        const last = d.attempts.at(-1);
        const outcome = last ? (last.statusCode ?? last.errorCode ?? "") : "";
        io.stdout.write(
          `${new Date(d.acceptedAt).toISOString()}\t${d.status.padEnd(9)}\t${d.id}\tattempts=${d.attempts.length} ${outcome}${d.reason ? `\t${d.reason}` : ""}\n`,
        );
      }
      return 0;
    }
    if ((action === "get" || action === "retry") && argument !== undefined) {
      const path = `/v1/deliveries/${encodeURIComponent(argument)}${action === "retry" ? "/retry" : ""}`;
      io.stdout.write(
        `${JSON.stringify(await callApi(target, action === "retry" ? "POST" : "GET", path), null, 2)}\n`,
      );
      return 0;
    }
    io.stderr.write(`hookwire deliveries: expected list, get ID or retry ID\n\n${HELP}`);
    return 2;
  } catch (error) {
    if (!(error instanceof ApiCallError)) throw error;
    io.stderr.write(`hookwire deliveries: ${error.message}\n`);
    return 1;
  }
};
