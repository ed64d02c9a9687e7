/**
 * `npm run chaos [-- --quick] [--json FILE] [--scenarios a,b]`
 *
 * Issue 11's chaos harness: does hookwire lose, repeat or strand anything it answered 202 for
 * when its processes die, when Redis dies or freezes, when a job throws, or when receivers hang?
 * Each scenario runs against a redis-server of its own (AOF on), the real ingest and worker in
 * processes of their own, a recording receiver and a client that retries as a real producer does,
 * and prints a row (see bench/README.md, "Chaos"). A measuring tool: it exits 0 whatever the
 * numbers, 1 only when a scenario could not be run at all.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { passedEnv } from "../service-process";
import { FAULT_SCENARIOS, ORDERED_SCENARIOS } from "./fault-scenarios";
import { HANGING_HOOKS, ISOLATION_SCENARIOS } from "./isolation-scenarios";
import { startRecorder } from "./recorder";
import { formatTable, jsonReport, verdictLine } from "./report";
import { FULL_SIZES, QUICK_SIZES, type ScenarioContext, type ScenarioResult } from "./scenario";
import type { ChaosSystem } from "./system";

const SCENARIOS = [...FAULT_SCENARIOS, ...ISOLATION_SCENARIOS, ...ORDERED_SCENARIOS];

const HELP = `Usage: npm run chaos -- [--quick] [--json FILE] [--scenarios LIST]

  --quick           every scenario small (the whole run in under 5 minutes)
  --json FILE       also write {"scenarios": [...]} to FILE
  --scenarios LIST  comma-separated names or numbers (1-${SCENARIOS.length}) of:
${SCENARIOS.map((s, i) => `                      ${i + 1}. ${s.name}: ${s.summary}`).join("\n")}

HOOKWIRE_* settings of the environment are handed on to ingest and worker, over the chaos
defaults (HOOKWIRE_WORKER_LOCK_MS=5000, HOOKWIRE_RETRY_SCHEDULE=0.2,0.5,1,2,5).
`;

function pick(list: string | undefined): typeof SCENARIOS {
  if (list === undefined) return SCENARIOS;
  return list
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "")
    .map((name) => {
      const found = /^\d+$/.test(name) ? SCENARIOS[Number(name) - 1] : SCENARIOS.find((s) => s.name === name);
      if (found === undefined)
        throw new Error(
          `unknown scenario ${name}: use 1-${SCENARIOS.length} or ${SCENARIOS.map((s) => s.name).join(",")}`,
        );
      return found;
    });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      scenarios: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const scenarios = pick(values.scenarios);
  const say = (line: string) => process.stderr.write(`chaos: ${line}\n`);
  const started = performance.now();
  const tempDir = await mkdtemp(join(tmpdir(), "hookwire-chaos-"));
  const [recorder, hangingRecorder] = await Promise.all([startRecorder(0), startRecorder(HANGING_HOOKS)]);
  const closeRecorders = () => Promise.all([recorder.close(), hangingRecorder.close()]);
  const live = new Set<ChaosSystem>();
  const context: ScenarioContext = {
    recorder,
    hangingRecorder,
    sizes: values.quick ? QUICK_SIZES : FULL_SIZES,
    env: passedEnv(),
    tempDir,
    live,
    say,
  };
  const interrupted = () => {
    say("interrupted: stopping the processes this run started");
    void Promise.allSettled([...live].map((system) => system.stop()))
      .then(closeRecorders)
      .then(() => rm(tempDir, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  const results: ScenarioResult[] = [];
  let failedToRun = 0;
  try {
    for (const [i, scenario] of scenarios.entries()) {
      say(`${i + 1}/${scenarios.length} ${scenario.name}: ${scenario.summary}`);
      const scenarioStarted = performance.now();
      try {
        const result = await scenario.run(context);
        results.push(result);
        for (const note of result.notes) say(`  ${note}`);
        say(`  ${verdictLine(result)} (${Math.round((performance.now() - scenarioStarted) / 1000)} s)`);
      } catch (error) {
        failedToRun++;
        say(`  could not run ${scenario.name}: ${(error as Error).stack ?? String(error)}`);
      }
    }
  } finally {
    await closeRecorders();
    await rm(tempDir, { recursive: true, force: true });
  }

  process.stdout.write(`\n${formatTable(results)}\n`);
  for (const result of results) process.stdout.write(`${verdictLine(result)}\n`);
  process.stdout.write(`(${Math.round((performance.now() - started) / 1000)} s)\n`);
  if (values.json !== undefined) {
    // npm runs the script in bench/; paths on the command line are the caller's.
    const file = resolve(process.env.INIT_CWD ?? process.cwd(), values.json);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, jsonReport(results));
    say(`results written to ${file}`);
  }
  return failedToRun > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
