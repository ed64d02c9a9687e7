import { runBaseline } from "./baseline";
import { runThroughput } from "./end-to-end";
import type { Receiver } from "./receiver";
import { median } from "./statistics";
import type { SystemUnderTest } from "./system-under-test";
import type { RenderedRequest } from "./workload";

const HEALTHY_HOOKS = 10;
/** Each throughput run is put against a bare-loop run of this length just before it. */
const BASELINE_MS = 2_000;

export interface IsolationResult {
  /** Healthy deliveries per second beside the dead hook (median). */
  dps: number;
  /** Beside a dead hook over alone, each run taken relative to the bare loop run just before it. */
  ratio: number;
  /** Healthy deliveries per second without it, measured in this phase (median). */
  aloneDps: number;
  hooks: number;
  /** Requests the dead endpoint took and never answered. */
  deadHookRequests: number;
}

/**
 * Phase 4: the H = 10 throughput run, alone and then beside one more hook whose endpoint takes
 * requests and never answers (default attempt timeout). Both are measured in this phase, each run
 * right after a bare-loop run and taken relative to it, so that the ratio says what the dead hook
 * costs the healthy ones rather than how the machine's load moved since phase 3.
 */
export async function runIsolation(
  system: SystemUnderTest,
  receiver: Receiver,
  request: RenderedRequest,
  options: { entries: number; warmUpEntries: number; runs: number; timeoutMs: number },
): Promise<IsolationResult> {
  await system.setHooks(HEALTHY_HOOKS, receiver.url);
  const measure = async (label: string, warmUpEntries: number) => {
    const rates: number[] = [];
    const ratios: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      const baseline = await runBaseline(receiver, request, {
        runs: 1,
        durationMs: BASELINE_MS,
        warmUpMs: 200,
      });
      const throughput = await runThroughput(system, receiver, `${label}-${run}`, {
        hooks: HEALTHY_HOOKS,
        entries: options.entries,
        warmUpEntries: run === 0 ? warmUpEntries : 0,
        runs: 1,
        timeoutMs: options.timeoutMs,
      });
      rates.push(throughput.dps);
      ratios.push(throughput.dps / baseline.rps);
    }
    return { dps: median(rates), ratio: median(ratios) };
  };
  const alone = await measure("isolation-alone", options.warmUpEntries);
  await system.addHook("bench-dead", receiver.deadUrl);
  const beside = await measure("isolation-beside", options.warmUpEntries);
  const { deadCount } = await receiver.counts();
  return {
    dps: beside.dps,
    ratio: beside.ratio / alone.ratio,
    aloneDps: alone.dps,
    hooks: HEALTHY_HOOKS,
    deadHookRequests: deadCount,
  };
}
