/**
 * `npm run bench [-- --quick] [--json FILE] [--cpu-prof DIR] [--phases a,b] [--runs N]`
 *
 * hookwire measured beside the machine's own limit, in one go (see bench/README.md):
 * 1. baseline: a bare undici loop to the receiver; 2. drain: the real worker empties a backlog;
 * 3. end to end through the real ingest and worker, H = 1 and H = 10 hooks per entry, throughput
 * and latency at 1 000 deliveries/s; 4. isolation: 3 again beside a hook that never answers;
 * 5. micro: policy evaluations and body renders. Ingest, worker and receiver each run in their
 * own process; everything is on loopback and under a key prefix of this run, dropped at the end.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connectRedis } from "@hookwire/queue";
import { runBaseline } from "./baseline";
import { type DrainResult, runDrain } from "./drain";
import { OFFERED_DPS, runLatency, runThroughput } from "./end-to-end";
import { type IsolationResult, runIsolation } from "./isolation";
import { type OrderedResult, runOrdered } from "./ordered";
import { benchPolicy } from "./policy-bench";
import { ProcessSampler } from "./process-sampler";
import { startReceiver } from "./receiver";
import { ownCluster } from "./redis-cluster";
import { ensureRedis, localRedisPid, stopRedis } from "./redis-server";
import { benchRender } from "./render-bench";
import { type BenchReport, checkTargets, type E2eFigures, formatTable, type MachineInfo } from "./report";
import { formatScale, measureScale } from "./scale-out";
import { passedEnv } from "./service-process";
import { median } from "./statistics";
import { startSystem } from "./system-under-test";
import { renderedRequest } from "./workload";

const PHASES = ["baseline", "drain", "e2e", "isolation", "ordered", "micro"] as const;
type Phase = (typeof PHASES)[number];

const HELP = `Usage: npm run bench -- [--quick] [--json FILE] [--cpu-prof DIR] [--phases LIST] [--runs N]
                         [--redis cluster]

  --quick          smoke run, under a minute (one run per figure, small counts)
  --json FILE      also write the results as JSON to FILE
  --cpu-prof DIR   write V8 CPU profiles of the ingest and worker processes to DIR
  --phases LIST    comma-separated subset of ${PHASES.join(",")} (the baseline always runs)
  --runs N         runs per figure, the median is reported (default 3, 1 with --quick)
  --redis cluster  also start a Redis Cluster of three masters and measure the drain and the
                   end-to-end throughput on it, beside the same figures on the single Redis,
                   each with its CPU per delivery (worker, ingest, Redis)

Environment: REDIS_URL (default redis://127.0.0.1:6379, started when nothing answers there);
HOOKWIRE_* settings given to the bench are passed on to ingest and worker (e.g.
HOOKWIRE_WORKER_CONCURRENCY=128 npm run bench).
`;

interface Sizes {
  baselineMs: number;
  drainDeliveries: number;
  drainWarmUp: number;
  h1Entries: number;
  h1WarmUp: number;
  h10Entries: number;
  h10WarmUp: number;
  orderedEntries: number;
  latencyMs: number;
  latencyWarmUpMs: number;
  microMs: number;
}

const FULL: Sizes = {
  baselineMs: 3_000,
  drainDeliveries: 60_000,
  drainWarmUp: 10_000,
  h1Entries: 20_000,
  h1WarmUp: 4_000,
  h10Entries: 4_000,
  h10WarmUp: 1_000,
  orderedEntries: 5_000,
  latencyMs: 10_000,
  latencyWarmUpMs: 2_000,
  microMs: 2_500,
};

const QUICK: Sizes = {
  baselineMs: 1_500,
  drainDeliveries: 15_000,
  drainWarmUp: 3_000,
  h1Entries: 5_000,
  h1WarmUp: 1_000,
  h10Entries: 1_500,
  h10WarmUp: 300,
  orderedEntries: 1_500,
  latencyMs: 3_000,
  latencyWarmUpMs: 1_000,
  microMs: 500,
};

/** The H=1 hook's own `delivery.concurrency` in its second throughput run (issue 15's figure). */
const WIDE_HOOK_CONCURRENCY = 32;

/** No single wait of the harness lasts longer than this. */
const WAIT_TIMEOUT_MS = 120e3;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      "cpu-prof": { type: "string" },
      phases: { type: "string" },
      runs: { type: "string" },
      redis: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quick = values.quick === true;
  const sizes = quick ? QUICK : FULL;
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20)
    throw new Error("--runs must be a whole number from 1 to 20");
  const phases = new Set<Phase>(
    values.phases === undefined ? PHASES : (values.phases.split(",").map((p) => p.trim()) as Phase[]),
  );
  for (const phase of phases)
    if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}: use ${PHASES.join(",")}`);
  if (values.redis !== undefined && values.redis !== "cluster")
    throw new Error(`--redis ${values.redis}: the one choice is --redis cluster`);
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const started = performance.now();
  const passed = passedEnv();

  const redisTarget = await ensureRedis(say);
  const machine = await machineInfo(redisTarget.url);
  const receiver = await startReceiver();
  // npm runs the script in bench/; paths on the command line are the caller's.
  const callerDir = process.env.INIT_CWD ?? process.cwd();
  const cpuProfileDir = values["cpu-prof"] === undefined ? undefined : resolve(callerDir, values["cpu-prof"]);
  if (cpuProfileDir !== undefined) await mkdir(cpuProfileDir, { recursive: true });
  say(`starting ingest and worker (Redis ${redisTarget.url})`);
  const system = await startSystem({
    redisUrl: redisTarget.url,
    env: passed,
    ...(cpuProfileDir !== undefined ? { cpuProfileDir } : {}),
  });
  if (process.env.BENCH_VERBOSE) say(`worker metrics at ${system.workerMetricsUrl}`);
  const redisPid = await localRedisPid(redisTarget.url);
  const sampler = new ProcessSampler({
    worker: system.worker.pid,
    ingest: system.ingest.pid,
    receiver: receiver.pid,
    harness: process.pid,
    ...(redisPid !== undefined ? { redis: redisPid } : {}),
  });
  const report: Omit<BenchReport, "targets" | "durationSeconds"> = {
    machine,
    settings: { quick, runs, env: passed },
    baseline: null,
    drain: null,
    e2e: { h1: null, h10: null },
    isolation: null,
    micro: null,
    memory: {},
    phases: {},
  };
  // Each phase is measured from here to its end: CPU, peak memory, requests answered, wall time.
  let phaseStart = { at: performance.now(), total: (await receiver.counts()).total };
  const beginPhase = async () => {
    sampler.take();
    phaseStart = { at: performance.now(), total: (await receiver.counts()).total };
  };
  const endPhase = async (phase: string) => {
    const used = sampler.take();
    const { total } = await receiver.counts();
    report.phases[phase] = {
      wallMs: performance.now() - phaseStart.at,
      requests: total - phaseStart.total,
      processes: Object.fromEntries(Object.entries(used).map(([name, use]) => [name, use])),
    };
    report.memory[phase] = {
      workerMiB: used.worker?.peakMiB ?? Number.NaN,
      ingestMiB: used.ingest?.peakMiB ?? Number.NaN,
    };
  };

  const interrupted = () => {
    say("interrupted: stopping the services and dropping the run's keys");
    void Promise.allSettled([system.stop(), receiver.close()])
      .then(() => stopRedis(redisTarget))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  // The bare loop runs before every phase, so that the limit is measured under the same
  // neighbours' load as hookwire; its figure is the median of all those runs.
  const request = await renderedRequest(system.hookSecret);
  const baselineRuns: number[] = [];
  let baselineConcurrency = 0;
  const measureBaseline = async (count: number, warmUpMs: number) => {
    await beginPhase();
    const result = await runBaseline(receiver, request, {
      runs: count,
      durationMs: sizes.baselineMs,
      warmUpMs,
    });
    baselineRuns.push(...result.runs);
    baselineConcurrency = result.concurrency;
    await endPhase(
      `baseline ${Object.keys(report.phases).filter((p) => p.startsWith("baseline")).length + 1}`,
    );
  };

  let drain: DrainResult | undefined;
  const e2e: Partial<Record<"h1" | "h10", Omit<E2eFigures, "ratio">>> = {};
  let isolation: IsolationResult | undefined;
  let ordered: OrderedResult | undefined;
  let scaleOut: BenchReport["scaleOut"];
  try {
    say("phase 1: baseline (bare undici loop to the receiver)");
    await measureBaseline(1, 1_000);

    if (phases.has("drain")) {
      say("phase 2: worker drain");
      await measureBaseline(1, 300);
      await beginPhase();
      drain = await runDrain(system, receiver, {
        runs,
        deliveries: sizes.drainDeliveries,
        warmUpDeliveries: sizes.drainWarmUp,
        timeoutMs: WAIT_TIMEOUT_MS,
      });
      await endPhase("drain");
    }

    if (phases.has("e2e")) {
      for (const hooks of [1, 10]) {
        say(`phase 3: end to end, H=${hooks}`);
        await measureBaseline(1, 300);
        await beginPhase();
        await system.setHooks(hooks, receiver.url);
        const throughput = await runThroughput(system, receiver, `e2e-h${hooks}`, {
          hooks,
          entries: hooks === 1 ? sizes.h1Entries : sizes.h10Entries,
          warmUpEntries: hooks === 1 ? sizes.h1WarmUp : sizes.h10WarmUp,
          runs,
          timeoutMs: WAIT_TIMEOUT_MS,
        });
        // H=1 again with the hook's own delivery.concurrency at 32 (the default allows 10 in flight).
        let wide: { dps: number } | undefined;
        if (hooks === 1) {
          await system.setHooks(0, receiver.url);
          await system.addHook("bench-0", `${receiver.url}/h/0`, { concurrency: WIDE_HOOK_CONCURRENCY });
          wide = await runThroughput(system, receiver, "e2e-h1-wide", {
            hooks,
            entries: sizes.h1Entries,
            warmUpEntries: sizes.h1WarmUp,
            runs,
            timeoutMs: WAIT_TIMEOUT_MS,
          });
          await system.setHooks(hooks, receiver.url);
        }
        const latency = await runLatency(system, receiver, `e2e-h${hooks}-latency`, {
          hooks,
          deliveriesPerSecond: OFFERED_DPS,
          durationMs: sizes.latencyMs,
          warmUpMs: sizes.latencyWarmUpMs,
          timeoutMs: WAIT_TIMEOUT_MS,
        });
        if (latency.unmatched > 0) say(`${latency.unmatched} deliveries had no acceptance record`);
        e2e[hooks === 1 ? "h1" : "h10"] = {
          hooks,
          eps: throughput.eps,
          dps: throughput.dps,
          ...(wide === undefined ? {} : { wideDps: wide.dps, wideConcurrency: WIDE_HOOK_CONCURRENCY }),
          p50Ms: latency.p50Ms,
          p95Ms: latency.p95Ms,
          p99Ms: latency.p99Ms,
          maxMs: latency.maxMs,
          offeredDps: latency.offeredDps,
          answerP50Ms: latency.answerP50Ms,
          answerP95Ms: latency.answerP95Ms,
          ingestPauses: latency.ingestPauses,
          workerPauses: latency.workerPauses,
          latencySamples: latency.count,
        };
        await endPhase(`e2e H=${hooks}`);
      }
    }

    if (phases.has("isolation")) {
      say("phase 4: isolation (H=10 alone, then beside a hook that never answers)");
      await measureBaseline(1, 300);
      await beginPhase();
      isolation = await runIsolation(system, receiver, request, {
        entries: sizes.h10Entries,
        warmUpEntries: sizes.h10WarmUp,
        runs,
        timeoutMs: WAIT_TIMEOUT_MS,
      });
      await endPhase("isolation");
    }

    if (phases.has("ordered")) {
      say("phase 4b: one ordered hook (delivery.ordering fifo), then one in parallel, the same entries");
      await beginPhase();
      ordered = await runOrdered(system, receiver, {
        runs,
        entries: sizes.orderedEntries,
        timeoutMs: WAIT_TIMEOUT_MS,
      });
      await endPhase("ordered");
    }

    if (values.redis === "cluster") {
      say("phase 6: drain and end to end on the single Redis, then the same on a Redis Cluster");
      const options = { runs, timeoutMs: WAIT_TIMEOUT_MS };
      const single = await measureScale(
        system,
        receiver,
        redisPid === undefined ? [] : [redisPid],
        sizes,
        options,
      );
      const cluster = await ownCluster();
      try {
        say(
          `started a Redis Cluster of ${cluster.ports.length} masters (${cluster.url}); ingest and worker on it`,
        );
        const onCluster = await startSystem({ redisUrl: cluster.url, env: passed });
        try {
          const figures = await measureScale(onCluster, receiver, cluster.pids, sizes, options);
          scaleOut = { masters: cluster.ports.length, single, cluster: figures };
        } finally {
          await onCluster.stop();
        }
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    sampler.stop();
    say("stopping ingest and worker");
    await system.stop();
    await receiver.close();
    await stopRedis(redisTarget);
  }

  const baselineRps = median(baselineRuns);
  const toBaseline = (value: number) => value / baselineRps;
  report.baseline = { rps: baselineRps, concurrency: baselineConcurrency, runs: baselineRuns };
  if (drain !== undefined) report.drain = { ...drain, ratio: toBaseline(drain.dps) };
  for (const key of ["h1", "h10"] as const) {
    const figures = e2e[key];
    if (figures !== undefined)
      report.e2e[key] = {
        ...figures,
        ratio: toBaseline(figures.dps),
        ...(figures.wideDps === undefined ? {} : { wideRatio: toBaseline(figures.wideDps) }),
      };
  }
  if (isolation !== undefined) report.isolation = isolation;
  if (ordered !== undefined) report.ordered = ordered;
  if (scaleOut !== undefined) report.scaleOut = scaleOut;

  if (phases.has("micro")) {
    say("phase 5: micro (policy, render)");
    const { policyPerSec } = benchPolicy({ durationMs: sizes.microMs });
    const { rendersPerSec } = benchRender({ durationMs: sizes.microMs });
    report.micro = { policyPerSec, rendersPerSec };
  }

  const durationSeconds = (performance.now() - started) / 1000;
  const full: BenchReport = { ...report, targets: checkTargets(report), durationSeconds };
  process.stdout.write(formatTable(full));
  if (scaleOut !== undefined)
    process.stdout.write(`\n${formatScale(scaleOut.single, scaleOut.cluster, scaleOut.masters)}`);
  if (cpuProfileDir !== undefined) say(`CPU profiles of ingest and worker in ${cpuProfileDir}`);
  if (values.json !== undefined) {
    const file = resolve(callerDir, values.json);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(full, null, 2)}\n`);
    say(`results written to ${file}`);
  }
  return 0;
}

async function machineInfo(redisUrl: string): Promise<MachineInfo> {
  const require = createRequire(import.meta.url);
  const version = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const redis = connectRedis(redisUrl, "api", "hookwire-bench-info");
  let redisVersion = "?";
  try {
    const info = await redis.info("server");
    redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  } finally {
    redis.disconnect();
  }
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? "?",
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    os: `${type()} ${release()}`,
    node: process.version,
    redis: redisVersion,
    bullmq: version("bullmq"),
    undici: version("undici"),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    startedAt: new Date().toISOString(),
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
