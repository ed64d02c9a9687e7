import { postClosed } from "./ingest-client";
import type { Receiver } from "./receiver";
import { median, perSecond } from "./statistics";
import type { SystemUnderTest } from "./system-under-test";
import { entryBatches } from "./workload";

const ENTRIES_PER_REQUEST = 100;

export interface OrderedResult {
  /** One hook with `delivery.ordering: "fifo"`: deliveries a second, posting to the last arrival. */
  dps: number;
  /** The same entries to one hook in parallel (its default concurrency), the same way. */
  parallelDps: number;
  /** ordered / parallel. */
  ratio: number;
  deliveries: number;
  runs: number[];
  parallelRuns: number[];
}

/**
 * Phase "ordered": what ordering costs one hook. The same entries go to one ordered hook, then
 * to one hook in parallel, each from the first post to the last request at the receiver (posted
 * as fast as ingest takes them, so the figure is the hook's own pace once a backlog is there).
 */
export async function runOrdered(
  system: SystemUnderTest,
  receiver: Receiver,
  options: { runs: number; entries: number; timeoutMs: number },
): Promise<OrderedResult> {
  const measure = async (label: string, delivery: Record<string, unknown>) => {
    await system.setHooks(0, receiver.url);
    await system.addHook(label, `${receiver.url}/h/${label}`, delivery);
    const runs: number[] = [];
    // The first run warms the worker up and is not counted.
    for (let run = 0; run <= options.runs; run++) {
      const { bodies } = entryBatches(`${label}-${run}`, options.entries, ENTRIES_PER_REQUEST);
      await receiver.reset();
      const startedAt = Date.now();
      await postClosed(system.client, bodies, 1);
      const arrival = await receiver.waitFor(options.entries, options.timeoutMs);
      if (run > 0) runs.push(perSecond(options.entries, arrival.lastAt - startedAt));
    }
    return runs;
  };
  const runs = await measure("ordered", { ordering: "fifo" });
  const parallelRuns = await measure("parallel", {});
  const dps = median(runs);
  const parallelDps = median(parallelRuns);
  return { dps, parallelDps, ratio: dps / parallelDps, deliveries: options.entries, runs, parallelRuns };
}
