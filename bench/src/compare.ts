/**
 * `npm run compare -- --a "NAME=value …" --b "NAME=value …" [--what drain|h1|h10|latency] [--rounds N]`
 *
 * A/B of two settings of the services on this machine, e.g. `--a HOOKWIRE_WORKER_CONCURRENCY=64
 * --b HOOKWIRE_WORKER_CONCURRENCY=128`. On a shared machine one variant measured after the other
 * mostly measures the neighbours; here the variants alternate (A B B A A B …), ingest and worker
 * restarted with each one's environment, each measurement right after a bare-loop run, and the
 * medians of the ratios to those runs and of the worker's CPU per delivery are compared.
 * `latency`: the bench's H=1 latency run (1 000 deliveries/s offered in requests of 100, one hook)
 * instead of a throughput run; its p95 from acceptance to the receiver and ingest's 202 p95 are
 * compared, lower being better.
 */
import { parseArgs } from "node:util";
import { runBaseline } from "./baseline";
import { DRAIN_HOOKS, runDrain } from "./drain";
import { OFFERED_DPS, runLatency, runThroughput } from "./end-to-end";
import { ProcessSampler } from "./process-sampler";
import { startReceiver } from "./receiver";
import { ensureRedis, localRedisPid, stopRedis } from "./redis-server";
import { median, pairedQuotients } from "./statistics";
import { startSystem } from "./system-under-test";
import { renderedRequest } from "./workload";

const WAIT_TIMEOUT_MS = 120e3;

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(/\s+/).filter((p) => p !== "")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`expected NAME=value, got ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

interface Sample {
  ratio: number;
  rate: number;
  /** CPU µs per delivery, by process. */
  cpu: Record<string, number>;
  workerPeakMiB: number;
  ingestPeakMiB: number;
  /** `latency` only: acceptance → receiver p95, and ingest's 202 p95 (ms). */
  p95Ms?: number;
  answerP95Ms?: number;
}

/** The latency run's length: its warm-up (not measured), then the measured part. */
const LATENCY_WARM_UP_MS = 1_000;
const LATENCY_MS = 6_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      a: { type: "string", default: "" },
      b: { type: "string", default: "" },
      what: { type: "string", default: "drain" },
      rounds: { type: "string", default: "4" },
      deliveries: { type: "string", default: "30000" },
    },
  });
  const variants = { A: parseEnv(values.a), B: parseEnv(values.b) };
  const rounds = Number(values.rounds);
  const deliveries = Number(values.deliveries);
  const what = values.what;
  if (!["drain", "h1", "h10", "latency"].includes(what))
    throw new Error("--what is drain, h1, h10 or latency");
  const say = (line: string) => process.stderr.write(`compare: ${line}\n`);

  const redisTarget = await ensureRedis(say);
  const receiver = await startReceiver();
  const system = await startSystem({ redisUrl: redisTarget.url });
  const request = await renderedRequest(system.hookSecret);
  const redisPid = await localRedisPid(redisTarget.url);
  const hooks = what === "h1" || what === "latency" ? 1 : DRAIN_HOOKS;
  await system.setHooks(hooks, receiver.url);
  const samples: Record<"A" | "B", Sample[]> = { A: [], B: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      // ABBA order: a drift in the neighbours' load weighs on both variants alike.
      const order: ("A" | "B")[] = round % 2 === 0 ? ["A", "B"] : ["B", "A"];
      for (const name of order) {
        await system.restart(variants[name]);
        const sampler = new ProcessSampler({
          worker: system.workers.map((worker) => worker.pid),
          ingest: system.ingest.pid,
          receiver: receiver.pid,
          ...(redisPid !== undefined ? { redis: redisPid } : {}),
        });
        const baseline = await runBaseline(receiver, request, { runs: 1, durationMs: 2_000, warmUpMs: 300 });
        sampler.take();
        const before = (await receiver.counts()).total;
        let rate: number;
        let latency: { p95Ms: number; answerP95Ms: number } | undefined;
        if (what === "latency") {
          const run = await runLatency(system, receiver, `cmp-${round}-${name}`, {
            hooks,
            deliveriesPerSecond: OFFERED_DPS,
            durationMs: LATENCY_MS,
            warmUpMs: LATENCY_WARM_UP_MS,
            timeoutMs: WAIT_TIMEOUT_MS,
          });
          rate = OFFERED_DPS;
          latency = { p95Ms: run.p95Ms, answerP95Ms: run.answerP95Ms };
        } else if (what === "drain") {
          const drain = await runDrain(system, receiver, {
            runs: 1,
            deliveries,
            warmUpDeliveries: Math.min(5_000, deliveries / 4),
            timeoutMs: WAIT_TIMEOUT_MS,
          });
          rate = drain.dps;
        } else {
          const throughput = await runThroughput(system, receiver, `cmp-${round}-${name}`, {
            hooks,
            entries: Math.ceil(deliveries / hooks),
            warmUpEntries: Math.ceil(deliveries / hooks / 5),
            runs: 1,
            timeoutMs: WAIT_TIMEOUT_MS,
          });
          rate = throughput.dps;
        }
        const used = sampler.take();
        sampler.stop();
        const delivered = (await receiver.counts()).total - before;
        const cpu = Object.fromEntries(
          Object.entries(used).map(([process, use]) => [process, (use.cpuMs * 1000) / delivered]),
        );
        const sample: Sample = {
          ratio: rate / baseline.rps,
          rate,
          cpu,
          workerPeakMiB: used.worker?.peakMiB ?? Number.NaN,
          ingestPeakMiB: used.ingest?.peakMiB ?? Number.NaN,
          ...latency,
        };
        samples[name].push(sample);
        const measured =
          latency === undefined
            ? `${Math.round(rate)}/s, ratio ${sample.ratio.toFixed(3)}`
            : `p95 ${latency.p95Ms.toFixed(1)} ms, 202 p95 ${latency.answerP95Ms.toFixed(1)} ms`;
        say(
          `round ${round + 1} ${name}: ${measured}, worker ${cpu.worker?.toFixed(0)} µs, ingest ${cpu.ingest?.toFixed(0)} µs, redis ${cpu.redis?.toFixed(0)} µs per delivery, peak RSS worker ${sample.workerPeakMiB.toFixed(0)} / ingest ${sample.ingestPeakMiB.toFixed(0)} MiB`,
        );
      }
    }
  } catch (error) {
    for (const [i, queue] of system.queues.entries()) {
      const counts = await queue.getJobCounts().catch(() => ({}));
      say(`failed; queue ${i} ${JSON.stringify(counts)}, paused ${await queue.isPaused().catch(() => "?")}`);
    }
    say(`worker's last lines:\n${system.worker.tail()}\ningest's last lines:\n${system.ingest.tail()}`);
    throw error;
  } finally {
    await system.stop();
    await receiver.close();
    await stopRedis(redisTarget);
  }
  const summary = (name: "A" | "B") => {
    const list = samples[name];
    const cpu = (process: string) => median(list.map((s) => s.cpu[process] ?? Number.NaN));
    return {
      ratio: median(list.map((s) => s.ratio)),
      rate: median(list.map((s) => s.rate)),
      worker: cpu("worker"),
      ingest: cpu("ingest"),
      redis: cpu("redis"),
      receiver: cpu("receiver"),
      workerPeakMiB: median(list.map((s) => s.workerPeakMiB)),
      ingestPeakMiB: median(list.map((s) => s.ingestPeakMiB)),
      p95Ms: median(list.map((s) => s.p95Ms ?? Number.NaN)),
      answerP95Ms: median(list.map((s) => s.answerP95Ms ?? Number.NaN)),
    };
  };
  const a = summary("A");
  const b = summary("B");
  const byRound = (value: (sample: Sample) => number, better: "higher" | "lower") => {
    const q = pairedQuotients(samples.A.map(value), samples.B.map(value), better);
    return `×${q.median.toFixed(3)} (×${q.low.toFixed(2)}–×${q.high.toFixed(2)}, B ${better} in ${q.better} of ${q.rounds})`;
  };
  const isLatency = what === "latency";
  const line = (name: string, s: typeof a) =>
    `${name}  ${isLatency ? `p95 ${s.p95Ms.toFixed(1)} ms  202 p95 ${s.answerP95Ms.toFixed(1)} ms` : `ratio ${s.ratio.toFixed(3)}  ${Math.round(s.rate)}/s`}  CPU µs per delivery: worker ${s.worker.toFixed(0)}, ingest ${s.ingest.toFixed(0)}, redis ${s.redis.toFixed(0)}, receiver ${s.receiver.toFixed(0)}; peak RSS worker ${s.workerPeakMiB.toFixed(0)} / ingest ${s.ingestPeakMiB.toFixed(0)} MiB`;
  const headline = isLatency
    ? `p95 ×${(b.p95Ms / a.p95Ms).toFixed(3)}, 202 p95 ×${(b.answerP95Ms / a.answerP95Ms).toFixed(3)}`
    : `ratio ×${(b.ratio / a.ratio).toFixed(3)}`;
  const headlineByRound = isLatency
    ? `p95 ${byRound((s) => s.p95Ms ?? Number.NaN, "lower")}; 202 p95 ${byRound((s) => s.answerP95Ms ?? Number.NaN, "lower")}`
    : `ratio ${byRound((s) => s.ratio, "higher")}`;
  process.stdout.write(
    `${what}, ${rounds} rounds, medians\n${line("A", a)}   (${values.a || "as is"})\n${line("B", b)}   (${values.b || "as is"})\n` +
      `B/A: ${headline}, worker CPU ×${(b.worker / a.worker).toFixed(3)}, ingest CPU ×${(b.ingest / a.ingest).toFixed(3)}\n` +
      `B/A round by round: ${headlineByRound}; worker CPU ${byRound((s) => s.cpu.worker ?? Number.NaN, "lower")}; ingest CPU ${byRound((s) => s.cpu.ingest ?? Number.NaN, "lower")}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`compare: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
