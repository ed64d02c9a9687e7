/**
 * `hookwire policy eval|explain`: try a policy (a JSON array of statements) outside the service.
 * eval:    stdin, one `{"resource","action"}` JSON object per line → stdout, one JSON decision per
 *          line, in order; a bad line gives `{"line", "error"}` and the stream goes on.
 * explain: an entry file → each of its accesses and why the policy allows it or not.
 * An unreadable or invalid policy exits 2 with every problem on stderr.
 */
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import {
  type Access,
  accessesOf,
  type CompiledPolicy,
  compilePolicy,
  describeIssue,
  type EntryLike,
  InvalidPolicyError,
  type PolicyIssue,
} from "@hookwire/policy";
import type { Command, CommandIO } from "../io";

const HELP = `Usage: hookwire policy <eval|explain> --policy FILE [--entry ENTRY.json]

FILE is a JSON array of policy statements, in LaunchDarkly's role-policy language:
  [{"effect": "allow", "resources": ["proj/*:env/production:flag/*"], "actions": ["*"]}]

  hookwire policy eval --policy FILE
      Reads one JSON object per line on stdin, {"resource": "...", "action": "..."}, and writes
      one JSON line per input, in the same order:
        {"allowed": true|false, "statementIndex": n|null, "effect": "allow"|"deny"|null, "reason": "..."}
      A line that is not such an object gives {"line": n, "error": "..."} and the rest still run.

  hookwire policy explain --policy FILE --entry ENTRY.json
      Shows each access of the entry (its "accesses", or those derived from kind, key, project,
      environment, tags and verbKind) and why the policy allows it or not.

Warnings (unknown resource types or actions) go to stderr. Exit status: 0 when done; 2 for bad
usage, an unreadable file or an invalid policy (every problem listed on stderr).
`;

const SUBCOMMANDS = ["eval", "explain"];

class UsageError extends Error {}

export const runPolicy: Command = async (argv, io) => {
  let values: { policy?: string; entry?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        policy: { type: "string" },
        entry: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    }));
  } catch (error) {
    return usageFailure(io, error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const [subcommand, ...extra] = positionals;
  try {
    if (subcommand === undefined || !SUBCOMMANDS.includes(subcommand)) {
      throw new UsageError(
        subcommand === undefined ? "which one: eval or explain?" : `unknown subcommand '${subcommand}'`,
      );
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (values.policy === undefined) throw new UsageError("--policy FILE is required");
    const policy = await loadPolicy(values.policy, io);
    if (policy === null) return 2;
    if (subcommand === "eval") return await evaluateStream(policy, io);
    if (values.entry === undefined) throw new UsageError("explain needs --entry ENTRY.json");
    return await explainEntry(policy, values.entry, io);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, error.message);
    if (error instanceof FileError) {
      io.stderr.write(`hookwire policy: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
};

function usageFailure(io: CommandIO, message: string): number {
  io.stderr.write(`hookwire policy: ${message}\n\n${HELP}`);
  return 2;
}

class FileError extends Error {}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new FileError(`cannot read ${what} file ${path}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FileError(`${what} file ${path} is not JSON: ${(error as Error).message}`);
  }
}

async function loadPolicy(path: string, io: CommandIO): Promise<CompiledPolicy | null> {
  const statements = await readJson(path, "policy");
  let policy: CompiledPolicy;
  try {
    policy = compilePolicy(statements);
  } catch (error) {
    if (!(error instanceof InvalidPolicyError)) throw error;
    const noun = error.issues.length === 1 ? "problem" : "problems";
    io.stderr.write(
      `hookwire policy: ${path}: invalid policy (${error.issues.length} ${noun}):\n${listIssues(error.issues)}`,
    );
    return null;
  }
  if (policy.warnings.length > 0)
    io.stderr.write(`hookwire policy: ${path}: warning:\n${listIssues(policy.warnings)}`);
  return policy;
}

function listIssues(issues: readonly PolicyIssue[]): string {
  return issues.map((issue) => `  ${describeIssue(issue)}\n`).join("");
}

async function evaluateStream(policy: CompiledPolicy, io: CommandIO): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    const access = readAccess(line);
    const result = typeof access === "string" ? { line: number, error: access } : policy.explain(access);
    await writeLine(io.stdout, JSON.stringify(result));
  }
  return 0;
}

/** The access on one input line, or what is wrong with the line. */
function readAccess(line: string): Access | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return 'expected an object {"resource": "...", "action": "..."}';
  }
  const { resource, action } = value as Record<string, unknown>;
  if (typeof resource !== "string") return '"resource" must be a string';
  if (typeof action !== "string") return '"action" must be a string';
  return { resource, action };
}

/** Writes one line, waiting when the reader is slower than we are. */
async function writeLine(out: Writable, text: string): Promise<void> {
  if (out.write(`${text}\n`)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      out.off("error", onError);
      resolve();
    };
    const onError = (error: Error) => {
      out.off("drain", onDrain);
      reject(error);
    };
    out.once("drain", onDrain);
    out.once("error", onError);
  });
}

async function explainEntry(policy: CompiledPolicy, path: string, io: CommandIO): Promise<number> {
  const entry = await readJson(path, "entry");
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new FileError(`entry file ${path} must hold one JSON object (an audit log entry)`);
  }
  const fields = entry as EntryLike;
  const own = Array.isArray(fields.accesses) && fields.accesses.length > 0;
  const accesses = accessesOf(fields);
  const out: string[] = [];
  const described = [fields.kind, fields.key]
    .filter((part) => typeof part === "string" && part !== "")
    .join(" ");
  out.push(
    `entry ${path}: ${described || "(no kind)"}${typeof fields.verbKind === "string" ? `, ${fields.verbKind}` : ""}`,
  );
  out.push(
    own
      ? `accesses: ${accesses.length}, from the entry's "accesses"`
      : `accesses: ${accesses.length}, derived from the entry's fields`,
  );
  let allowed = 0;
  for (const access of accesses) {
    const decision = policy.explain(access);
    if (decision.allowed) allowed++;
    out.push(`  ${decision.allowed ? "ALLOWED" : "DENIED "}  ${access.action} on ${access.resource}`);
    out.push(`           ${decision.reason}`);
  }
  out.push(
    allowed > 0
      ? `result: the entry goes to the hook (${allowed} of ${accesses.length} accesses allowed)`
      : `result: the entry does not go to the hook (no access allowed)`,
  );
  io.stdout.write(`${out.join("\n")}\n`);
  return 0;
}
