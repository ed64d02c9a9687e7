import { runDrain } from "./drain";
import { runThroughput } from "./end-to-end";
import { ProcessSampler } from "./process-sampler";
import type { Receiver } from "./receiver";
import type { SystemUnderTest } from "./system-under-test";

/** One figure of `--redis cluster`: a rate, and what each delivery cost each kind of process. */
export interface ScaleFigure {
  dps: number;
  /** CPU µs per delivery. `redis`: all the servers' together (a cluster's masters summed). */
  cpuUs: { worker: number; ingest: number; redis: number };
}

export interface ScaleFigures {
  drain: ScaleFigure;
  h1: ScaleFigure;
  h10: ScaleFigure;
}

export interface ScaleSizes {
  drainDeliveries: number;
  drainWarmUp: number;
  h1Entries: number;
  h1WarmUp: number;
  h10Entries: number;
  h10WarmUp: number;
}

/**
 * The drain and end-to-end throughput figures of one system, each with its CPU per delivery: run
 * on the single Redis and on a Redis Cluster in one bench run, side by side. The worker's CPU per
 * delivery says how many workers a load needs (deliveries a second × µs ÷ 10⁶ cores).
 */
export async function measureScale(
  system: SystemUnderTest,
  receiver: Receiver,
  redisPids: readonly number[],
  sizes: ScaleSizes,
  options: { runs: number; timeoutMs: number },
): Promise<ScaleFigures> {
  const pids: Record<string, number> = { worker: system.worker.pid, ingest: system.ingest.pid };
  redisPids.forEach((pid, i) => {
    pids[`redis-${i}`] = pid;
  });
  const sampler = new ProcessSampler(pids);
  const figure = async (measure: () => Promise<number>): Promise<ScaleFigure> => {
    sampler.take();
    const before = (await receiver.counts()).total;
    const dps = await measure();
    const used = sampler.take();
    const delivered = Math.max(1, (await receiver.counts()).total - before);
    const us = (names: string[]) =>
      (names.reduce((sum, name) => sum + (used[name]?.cpuMs ?? 0), 0) * 1000) / delivered;
    return {
      dps,
      cpuUs: {
        worker: us(["worker"]),
        ingest: us(["ingest"]),
        redis: us(Object.keys(pids).filter((name) => name.startsWith("redis-"))),
      },
    };
  };
  try {
    const drain = await figure(async () => {
      const result = await runDrain(system, receiver, {
        runs: options.runs,
        deliveries: sizes.drainDeliveries,
        warmUpDeliveries: sizes.drainWarmUp,
        timeoutMs: options.timeoutMs,
      });
      return result.dps;
    });
    const throughput = (hooks: 1 | 10) =>
      figure(async () => {
        await system.setHooks(hooks, receiver.url);
        const result = await runThroughput(system, receiver, `scale-h${hooks}`, {
          hooks,
          entries: hooks === 1 ? sizes.h1Entries : sizes.h10Entries,
          warmUpEntries: hooks === 1 ? sizes.h1WarmUp : sizes.h10WarmUp,
          runs: options.runs,
          timeoutMs: options.timeoutMs,
        });
        return result.dps;
      });
    const h1 = await throughput(1);
    const h10 = await throughput(10);
    return { drain, h1, h10 };
  } finally {
    sampler.stop();
  }
}

/** The two systems' figures as a table: rates, their ratio, and the CPU per delivery of each. */
export function formatScale(single: ScaleFigures, cluster: ScaleFigures, masters: number): string {
  const rows: string[][] = [["figure", "single Redis", `cluster (${masters} masters)`, "cluster / single"]];
  const names: [keyof ScaleFigures, string][] = [
    ["drain", "drain, 10 hooks"],
    ["h1", "e2e H=1"],
    ["h10", "e2e H=10"],
  ];
  const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;
  const us = (n: number) => `${Math.round(n)} µs`;
  for (const [key, name] of names) {
    const a = single[key];
    const b = cluster[key];
    rows.push([`${name}: deliveries`, rate(a.dps), rate(b.dps), `×${(b.dps / a.dps).toFixed(2)}`]);
    for (const process of ["worker", "ingest", "redis"] as const) {
      rows.push([
        `${name}: ${process} CPU per delivery`,
        us(a.cpuUs[process]),
        us(b.cpuUs[process]),
        `×${(b.cpuUs[process] / a.cpuUs[process]).toFixed(2)}`,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return `${rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n")}\n`;
}
