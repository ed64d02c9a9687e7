import type { Pauses } from "./pauses";
import type { ScaleFigures } from "./scale-out";
/**
 * What a bench run found, as JSON (`--json FILE`) and as the terminal table. The JSON keeps the
 * keys issue 8 asks for (`machine`, `baseline.rps`, `drain.{dps,ratio}`, `e2e.h1|h10.{eps,dps,
 * ratio,p50Ms,p95Ms,p99Ms}`, `isolation.ratio`, `micro.{policyPerSec,rendersPerSec}`); every
 * `ratio` is relative to `baseline.rps`. A phase left out (`--phases`) is null.
 */

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  os: string;
  node: string;
  redis: string;
  bullmq: string;
  undici: string;
  loadAverage: number[];
  startedAt: string;
}

export interface PhaseMemory {
  workerMiB: number;
  ingestMiB: number;
}

/** What one process spent in one phase. */
export interface ProcessUse {
  peakMiB: number;
  cpuMs: number;
}

/** One phase's cost, warm-ups and backlog building included. */
export interface PhaseUse {
  wallMs: number;
  /** Requests the healthy receiver answered: deliveries, or the bare loop's requests. */
  requests: number;
  /** worker, ingest, redis (when local), receiver, harness. */
  processes: Record<string, ProcessUse>;
}

export interface E2eFigures {
  hooks: number;
  eps: number;
  dps: number;
  ratio: number;
  /** H=1: deliveries a second with the hook's `delivery.concurrency` at `wideConcurrency`, and its ratio. */
  wideDps?: number;
  wideRatio?: number;
  wideConcurrency?: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The offered load of the latency run (deliveries a second). */
  offeredDps: number;
  /** Ingest's time to answer 202 in the latency run (part of the latency), p50 and p95. */
  answerP50Ms: number;
  answerP95Ms: number;
  latencySamples: number;
  /** Each service's event loop delay and collector pauses during the latency run. */
  ingestPauses?: Pauses;
  workerPauses?: Pauses;
}

export interface BenchReport {
  machine: MachineInfo;
  settings: { quick: boolean; runs: number; env: Record<string, string> };
  baseline: { rps: number; concurrency: number; runs: number[] } | null;
  drain: {
    dps: number;
    ratio: number;
    deliveries: number;
    hooks: number;
    runs: number[];
    /** Redis memory kept per succeeded delivery (see DrainResult). */
    redisBytesPerDelivery?: number;
  } | null;
  e2e: { h1: E2eFigures | null; h10: E2eFigures | null };
  isolation: { ratio: number; dps: number; aloneDps: number; hooks: number; deadHookRequests: number } | null;
  /** One ordered hook against one in parallel (see ordered.ts). */
  ordered?: { dps: number; parallelDps: number; ratio: number; deliveries: number };
  micro: { policyPerSec: number; rendersPerSec: number } | null;
  /** Peak RSS of worker and ingest, phase by phase. */
  memory: Record<string, PhaseMemory>;
  /** CPU and memory of every process, phase by phase. */
  phases: Record<string, PhaseUse>;
  /** `--redis cluster`: the same figures on the single Redis and on a cluster of `masters`. */
  scaleOut?: { masters: number; single: ScaleFigures; cluster: ScaleFigures };
  targets: TargetCheck[];
  durationSeconds: number;
}

export interface TargetCheck {
  name: string;
  measured: number;
  /** "≥ 0.6", "≤ 20 ms" */
  target: string;
  met: boolean;
}

/** The targets, checked against whatever the run measured (phases not run are left out). */
export function checkTargets(report: Omit<BenchReport, "targets" | "durationSeconds">): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const atLeast = (name: string, measured: number | undefined, min: number) => {
    if (measured !== undefined) checks.push({ name, measured, target: `≥ ${min}`, met: measured >= min });
  };
  const atMost = (name: string, measured: number | undefined, max: number, unit: string) => {
    if (measured !== undefined)
      checks.push({ name, measured, target: `≤ ${max}${unit}`, met: measured <= max });
  };
  // Issue 15's table.
  atLeast("drain ratio", report.drain?.ratio, 0.5);
  atMost("Redis bytes per delivery kept", report.drain?.redisBytesPerDelivery, 200, " B");
  atLeast("e2e H=1 ratio, delivery.concurrency 32", report.e2e.h1?.wideRatio, 0.35);
  atLeast("e2e H=10 deliveries ratio", report.e2e.h10?.ratio, 0.45);
  const h1 = report.e2e.h1;
  atMost(`H=1 p95 at ${h1?.offeredDps ?? 1000}/s`, h1?.p95Ms, 20, " ms");
  atMost(`H=1 p99 at ${h1?.offeredDps ?? 1000}/s`, h1?.p99Ms, 50, " ms");
  atMost("H=1 ingest 202 p95", h1?.answerP95Ms, 8, " ms");
  atLeast("isolation ratio", report.isolation?.ratio, 0.95);
  const drain = report.phases.drain;
  const drainWorker = drain?.processes.worker;
  if (drain !== undefined && drainWorker !== undefined && drain.requests > 0)
    atMost("worker CPU per delivery, drain", (drainWorker.cpuMs * 1000) / drain.requests, 70, " µs");
  const peaks = (field: keyof PhaseMemory) =>
    Object.values(report.memory)
      .map((m) => m[field])
      .filter((v) => Number.isFinite(v));
  const workerPeaks = peaks("workerMiB");
  const ingestPeaks = peaks("ingestMiB");
  if (workerPeaks.length > 0) atMost("worker peak RSS", Math.max(...workerPeaks), 150, " MiB");
  if (ingestPeaks.length > 0) atMost("ingest peak RSS", Math.max(...ingestPeaks), 200, " MiB");
  return checks;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function rate(value: number): string {
  return Number.isFinite(value) ? `${integer.format(value)}/s` : "-";
}

function ratio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "" : value.toFixed(2);
}

function ms(value: number): string {
  return Number.isFinite(value) ? (value < 10 ? value.toFixed(1) : integer.format(value)) : "-";
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? "" : met ? "ok" : "MISSED";
}

/** The terminal table: one line per figure, its ratio to the bare loop, its target. */
export function formatTable(report: BenchReport): string {
  const rows: string[][] = [["phase", "figure", "measured", "ratio", "target", ""]];
  const target = (name: string) => report.targets.find((t) => t.name === name);
  const row = (phase: string, figure: string, measured: string, r: string, name?: string, fallback = "") => {
    const check = name === undefined ? undefined : target(name);
    rows.push([phase, figure, measured, r, check?.target ?? fallback, verdict(check?.met)]);
  };
  if (report.baseline) {
    const b = report.baseline;
    row(
      "baseline",
      `undici POST to the receiver, ${b.concurrency} in flight`,
      rate(b.rps),
      "1.00",
      undefined,
      "the limit",
    );
  }
  if (report.drain) {
    const d = report.drain;
    row(
      "drain",
      `deliveries, ${integer.format(d.deliveries)} queued for ${d.hooks} hooks`,
      rate(d.dps),
      ratio(d.ratio),
      "drain ratio",
    );
    if (d.redisBytesPerDelivery !== undefined) {
      row(
        "drain",
        "Redis memory kept per delivery (used_memory after / before)",
        `${integer.format(d.redisBytesPerDelivery)} B`,
        "",
        "Redis bytes per delivery kept",
      );
    }
    const cpu = target("worker CPU per delivery, drain");
    if (cpu !== undefined)
      row(
        "drain",
        "worker CPU per delivery (the phase's CPU / requests)",
        `${ms(cpu.measured)} µs`,
        "",
        cpu.name,
      );
  }
  for (const key of ["h1", "h10"] as const) {
    const e = report.e2e[key];
    if (e === null) continue;
    const phase = `e2e H=${e.hooks}`;
    row(phase, "entries accepted", rate(e.eps), ratio(e.eps / (report.baseline?.rps ?? Number.NaN)));
    row(
      phase,
      key === "h1" ? "deliveries, the default delivery.concurrency" : "deliveries",
      rate(e.dps),
      ratio(e.ratio),
      key === "h1" ? undefined : "e2e H=10 deliveries ratio",
    );
    if (e.wideDps !== undefined)
      row(
        phase,
        `deliveries, the hook's delivery.concurrency at ${e.wideConcurrency}`,
        rate(e.wideDps),
        ratio(e.wideRatio),
        "e2e H=1 ratio, delivery.concurrency 32",
      );
    const label = key === "h1" ? "H=1" : "H=10";
    row(phase, `latency p50 at ${integer.format(e.offeredDps)} deliveries/s`, `${ms(e.p50Ms)} ms`, "");
    row(phase, "latency p95", `${ms(e.p95Ms)} ms`, "", `${label} p95 at ${e.offeredDps}/s`);
    row(
      phase,
      `latency p99 (max ${ms(e.maxMs)} ms)`,
      `${ms(e.p99Ms)} ms`,
      "",
      `${label} p99 at ${e.offeredDps}/s`,
    );
    row(
      phase,
      "ingest's 202 to those requests, p50 / p95",
      `${ms(e.answerP50Ms)} / ${ms(e.answerP95Ms)} ms`,
      "",
      key === "h1" ? "H=1 ingest 202 p95" : undefined,
    );
    for (const [name, pauses] of [
      ["ingest", e.ingestPauses],
      ["worker", e.workerPauses],
    ] as const) {
      if (pauses === undefined) continue;
      row(
        phase,
        `${name}'s pauses: loop delay p99 / max (idle reads 10); collector`,
        `${ms(pauses.loopP99Ms)} / ${ms(pauses.loopMaxMs)} ms; ${integer.format(pauses.gcCount)} pauses, ${(100 * pauses.gcShare).toFixed(1)} % of the time`,
        "",
      );
    }
  }
  if (report.isolation) {
    const i = report.isolation;
    row("isolation", `${i.hooks} healthy hooks alone, deliveries`, rate(i.aloneDps), "");
    row("isolation", `${i.hooks} healthy hooks beside a dead one, deliveries`, rate(i.dps), "");
    row("isolation", "beside / alone, each to its bare-loop run", ratio(i.ratio), "", "isolation ratio");
  }
  if (report.ordered) {
    const o = report.ordered;
    row("ordered", "one hook, delivery.ordering fifo, deliveries", rate(o.dps), "");
    row("ordered", "one hook in parallel, the same entries, deliveries", rate(o.parallelDps), "");
    row("ordered", "ordered / parallel", ratio(o.ratio), "");
  }
  if (report.micro) {
    row("micro", "policy evaluations (one core)", rate(report.micro.policyPerSec), "");
    row("micro", "body renders (one core)", rate(report.micro.rendersPerSec), "");
  }
  const peaks = Object.entries(report.memory);
  for (const [phase, memory] of peaks) {
    row(
      "memory",
      `peak RSS in ${phase}: worker / ingest`,
      `${ms(memory.workerMiB)} / ${ms(memory.ingestMiB)} MiB`,
      "",
    );
  }
  for (const name of ["worker", "ingest"]) {
    const check = target(`${name} peak RSS`);
    if (check)
      rows.push([
        "memory",
        `${name} peak RSS, all phases`,
        `${ms(check.measured)} MiB`,
        "",
        check.target,
        verdict(check.met),
      ]);
  }

  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const align = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const m = report.machine;
  const costs = formatCosts(report.phases);
  const header =
    `hookwire bench, ${report.settings.quick ? "quick" : "full"} run of ${report.durationSeconds.toFixed(0)} s, ${m.startedAt}\n` +
    `${m.cpus} × ${m.cpuModel}, ${integer.format(m.memoryMiB)} MiB, ${m.os}, Node ${m.node}, Redis ${m.redis}, BullMQ ${m.bullmq}, undici ${m.undici}\n`;
  const lines = rows.map(align);
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const missed = report.targets.filter((t) => !t.met).length;
  const summary = `\n${report.targets.length - missed} of ${report.targets.length} targets met; ratios are to the bare loop of the same run (medians of ${report.settings.runs} run${report.settings.runs === 1 ? "" : "s"}).\n`;
  return `${header}\n${lines.join("\n")}\n${summary}\n${costs}`;
}

const COST_PROCESSES = ["worker", "ingest", "redis", "receiver", "harness"];

/**
 * CPU microseconds each process spent per request the receiver answered, phase by phase: the
 * figures a noisy neighbour moves least, and the ones that say where a delivery's cost goes.
 */
export function formatCosts(phases: Record<string, PhaseUse>): string {
  const rows: string[][] = [["phase", "requests", ...COST_PROCESSES.map((p) => `${p} µs`), "wall s"]];
  for (const [phase, use] of Object.entries(phases)) {
    rows.push([
      phase,
      integer.format(use.requests),
      ...COST_PROCESSES.map((p) => {
        const cpuMs = use.processes[p]?.cpuMs;
        return cpuMs === undefined || !Number.isFinite(cpuMs) || use.requests === 0
          ? "-"
          : integer.format((cpuMs * 1000) / use.requests);
      }),
      (use.wallMs / 1000).toFixed(1),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((cells) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "),
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return `CPU per answered request, by process (whole phase: warm-ups and backlog building included)\n${lines.join("\n")}\n`;
}
