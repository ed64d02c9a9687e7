/**
 * Scenarios 1 to 5, and 8 and 9 with ordered hooks: a flow of entries cut by faults (worker,
 * ingest and redis-server SIGKILLed and started again, Redis frozen), and jobs that throw before
 * a good worker takes over. Each
 * expects every accepted entry delivered to each of its hooks, nothing left pending, and no more
 * repeats than the faults left in flight.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { generateSecretKey } from "@hookwire/store";
import { expectedDeliveries, inFlightAtFault } from "./accounting";
import { postPaced } from "./client";
import { type FaultKind, injectFault } from "./faults";
import type { Recorder } from "./recorder";
import { succeededAmong } from "./records";
import {
  acceptedEntries,
  chaosBatches,
  ENTRIES_PER_BATCH,
  POST_CONCURRENCY,
  quietMsOf,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  until,
  withSystem,
} from "./scenario";
import { rowOf, settle, settledNote } from "./settle";
import type { ChaosSystem } from "./system";

/** Hooks every entry goes to in these scenarios (each an `/ok/` path of the recorder). */
const HOOKS = 2;
/** A fault waits at most this long for the flow to reach its point. */
const PROGRESS_TIMEOUT_MS = 120e3;

async function createHooks(
  system: ChaosSystem,
  recorder: Recorder,
  count: number,
  delivery?: Record<string, unknown>,
): Promise<string[]> {
  const hookIds: string[] = [];
  for (let n = 0; n < count; n++)
    hookIds.push(await system.createHook(`chaos-${n}`, `${recorder.url}/ok/${n}`, delivery));
  return hookIds;
}

/**
 * `faults` faults of one kind, the first after a quarter of the batches were answered (for three),
 * the next ones further on, each hitting work in progress, while the client keeps posting.
 * `delivery`: the hooks' delivery settings (the ordered scenarios').
 */
function faultScenario(
  name: string,
  kind: FaultKind,
  faults: number,
  summary: string,
  delivery?: Record<string, unknown>,
): Scenario {
  return {
    name,
    summary,
    run: (context) =>
      withSystem(context, name, async (system, client) => {
        const { recorder, sizes } = context;
        await recorder.reset();
        const hookIds = await createHooks(system, recorder, HOOKS, delivery);
        const batches = chaosBatches(name, sizes.faultEntries, ENTRIES_PER_BATCH);
        let answered = 0;
        const posting = postPaced(client, batches, {
          intervalMs: sizes.faultIntervalMs,
          concurrency: POST_CONCURRENCY,
          onOutcome: () => answered++,
        });
        let inFlight = 0;
        for (let fault = 1; fault <= faults; fault++) {
          const point = Math.floor((fault * batches.length) / (faults + 1));
          await until(() => answered >= point, PROGRESS_TIMEOUT_MS);
          const report = await injectFault(kind, { system, recorder, client, hookIds });
          inFlight += report.inFlight;
          // Said as it happens (the notes come after the settle wait).
          context.say(`  fault ${fault}: ${report.note}`);
        }
        const accepted = acceptedEntries(await posting);
        return finish(context, system, {
          name,
          expected: expectedDeliveries(accepted.entryIds, hookIds),
          inFlight,
          gaveUpEntries: accepted.gaveUpEntries,
          notes: accepted.notes,
        });
      }),
  };
}

/** Settles, then makes the row. */
async function finish(
  context: ScenarioContext,
  system: ChaosSystem,
  done: { name: string; expected: Set<string>; inFlight: number; gaveUpEntries: number; notes: string[] },
): Promise<ScenarioResult> {
  const settled = await settle({
    system,
    recorder: context.recorder,
    expected: done.expected,
    quietMs: quietMsOf(system),
    capMs: context.sizes.settleCapMs,
  });
  const { tally } = settled;
  const notes = [...done.notes, settledNote(settled)];
  if (tally.unexpected > 0)
    notes.push(`${tally.unexpected} deliveries arrived for entries never answered 202`);
  if (tally.lost > 0) notes.push(`lost, e.g. ${tally.lostIds.slice(0, 3).join(", ")}`);
  return {
    row: {
      ...rowOf(done.name, settled),
      inFlightAtFault: done.inFlight,
    },
    gaveUpEntries: done.gaveUpEntries,
    notes,
  };
}

/**
 * Scenario 5: a worker started with another HOOKWIRE_SECRET_KEY than ingest cannot decrypt the
 * hooks' signing secrets, so every job it takes throws. It runs a few seconds after the entries
 * are in, is stopped (SIGTERM), and a good worker must then deliver everything.
 */
const throwingJob: Scenario = {
  name: "throwing-job",
  summary: "a worker whose jobs throw (wrong HOOKWIRE_SECRET_KEY), then a good worker",
  run: (context) =>
    withSystem(context, "throwing-job", async (system, client) => {
      const { recorder, sizes } = context;
      await recorder.reset();
      const hookIds = await createHooks(system, recorder, HOOKS);
      await system.stopService("worker");
      await system.startWorker({ HOOKWIRE_SECRET_KEY: generateSecretKey() });
      const batches = chaosBatches("throwing-job", sizes.throwingEntries, ENTRIES_PER_BATCH);
      const accepted = acceptedEntries(
        await postPaced(client, batches, { intervalMs: 50, concurrency: POST_CONCURRENCY }),
      );
      await sleep(sizes.badWorkerMs);
      const badTail = system.worker?.tail().split("\n").filter(Boolean).at(-1) ?? "";
      await system.stopService("worker");
      const received = (await recorder.arrivals()).ids;
      const succeeded = await succeededAmong(system.inspect, system.partitions, received);
      const inFlight = inFlightAtFault(received, succeeded, []);
      const delivered = received.length;
      await system.startWorker();
      const notes = [
        `the bad worker delivered ${delivered}; its last log line: ${badTail.slice(0, 200)}`,
        ...accepted.notes,
      ];
      return finish(context, system, {
        name: "throwing-job",
        expected: expectedDeliveries(accepted.entryIds, hookIds),
        inFlight,
        gaveUpEntries: accepted.gaveUpEntries,
        notes,
      });
    }),
};

export const FAULT_SCENARIOS: readonly Scenario[] = [
  faultScenario(
    "worker-kill",
    "worker-kill",
    3,
    "worker SIGKILLed mid-flow 3 times, started again each time",
  ),
  faultScenario(
    "ingest-kill",
    "ingest-kill",
    3,
    "ingest SIGKILLed mid-request 3 times, started again each time",
  ),
  faultScenario(
    "redis-kill",
    "redis-kill",
    3,
    "redis-server SIGKILLed 3 times, started again on its AOF (same dir, same port)",
  ),
  faultScenario("redis-stop", "redis-stop", 1, "redis-server SIGSTOPped for 3 s, then SIGCONT"),
  throwingJob,
];

/**
 * Scenarios 8 and 9: the same faults with ordered hooks, whose deliveries live in their
 * sequences (not BullMQ), each head under a lock.
 */
export const ORDERED_SCENARIOS: readonly Scenario[] = [
  faultScenario(
    "ordered-worker-kill",
    "worker-kill",
    3,
    'two ordered hooks (delivery.ordering "fifo"), worker SIGKILLed mid-flow 3 times',
    { ordering: "fifo" },
  ),
  faultScenario(
    "ordered-redis-kill",
    "redis-kill",
    2,
    "two ordered hooks, redis-server SIGKILLed 2 times, started again on its AOF",
    { ordering: "fifo" },
  ),
];
