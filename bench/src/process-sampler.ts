import { readFileSync } from "node:fs";

/**
 * What each process of the run spends, phase by phase, read from /proc (Linux only; elsewhere
 * every figure is NaN):
 * - peak resident memory: VmRSS read every `intervalMs`, the largest kept (VmHWM is the peak of
 *   the process's whole life and cannot tell one phase from the one before; a spike shorter than
 *   the interval can be missed);
 * - CPU time (user + system): on a shared machine wall-clock rates move with the neighbours'
 *   load, the CPU a process spends per delivery does much less.
 * A name may stand for several processes (the workers of a run with more than one): their CPU
 * is summed, and the peak is the largest of any one of them.
 */
export class ProcessSampler {
  readonly #pids: Record<string, readonly number[]>;
  readonly #peaks = new Map<string, number>();
  #cpuAtMark = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: Record<string, number | readonly number[]>, intervalMs = 100) {
    this.#pids = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, typeof pid === "number" ? [pid] : pid]),
    );
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
    this.#cpuAtMark = this.#cpuNow();
  }

  /**
   * Since the previous call (or the start): peak RSS (MiB) and CPU time (ms) of each process.
   * Then starts over.
   */
  take(): Record<string, { peakMiB: number; cpuMs: number }> {
    this.#sample();
    const cpu = this.#cpuNow();
    const taken: Record<string, { peakMiB: number; cpuMs: number }> = {};
    for (const name of Object.keys(this.#pids)) {
      taken[name] = {
        peakMiB: this.#peaks.get(name) ?? Number.NaN,
        cpuMs: (cpu.get(name) ?? Number.NaN) - (this.#cpuAtMark.get(name) ?? Number.NaN),
      };
    }
    this.#peaks.clear();
    this.#cpuAtMark = cpu;
    return taken;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): void {
    for (const [name, pids] of Object.entries(this.#pids)) {
      for (const pid of pids) {
        const rss = readStatusMiB(pid, "VmRSS");
        if (Number.isNaN(rss)) continue;
        this.#peaks.set(name, Math.max(this.#peaks.get(name) ?? 0, rss));
      }
    }
  }

  #cpuNow(): Map<string, number> {
    const cpu = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.#pids))
      cpu.set(
        name,
        pids.reduce((sum, pid) => sum + readCpuMs(pid), 0),
      );
    return cpu;
  }
}

/** A `kB` field of /proc/<pid>/status in MiB; NaN when the process or the field is not there. */
export function readStatusMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return Number.NaN;
  }
  return parseStatusKiB(status, field) / 1024;
}

export function parseStatusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  return match === null ? Number.NaN : Number(match[1]);
}

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux the harness runs on. */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process (all its threads), in ms; NaN when it is not there. */
export function readCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return Number.NaN;
  }
  return parseStatCpuMs(stat);
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in ms. */
export function parseStatCpuMs(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}
