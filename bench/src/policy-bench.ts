/**
 * Policy evaluations per second on one core: a 3-statement policy (an allow, a tagged allow with
 * an action glob, a tagged deny) against a mix of 1 024 accesses (flags and segments in several
 * environments, with and without tags, members) whose resource strings repeat, as they do when
 * ingest checks every entry against every hook. Warms up, then reports the median of five runs.
 *
 * Run: npx tsx bench/src/policy-bench.ts [durationMs]
 */
import { pathToFileURL } from "node:url";
import { type Access, compilePolicy } from "@hookwire/policy";

const STATEMENTS = [
  { effect: "allow", resources: ["proj/*:env/production:flag/*"], actions: ["*"] },
  { effect: "allow", resources: ["proj/*:env/*:segment/*;critical"], actions: ["update*"] },
  {
    effect: "deny",
    resources: ["proj/*:env/production:flag/*;internal"],
    actions: ["delete*", "updateTargets"],
  },
];

const RUNS = 5;
const BATCH = 1024;

function workload(): Access[] {
  const environments = ["production", "staging", "test", "dev-eu"];
  const actions = ["updateOn", "updateRules", "deleteFlag", "updateTargets", "createFlag", "updateIncluded"];
  const accesses: Access[] = [];
  for (let i = 0; accesses.length < BATCH; i++) {
    const env = environments[i % environments.length]!;
    const action = actions[i % actions.length]!;
    const project = `project-${i % 7}`;
    switch (i % 5) {
      case 0:
        accesses.push({ resource: `proj/${project}:env/${env}:flag/flag-${i % 97}`, action });
        break;
      case 1:
        accesses.push({
          resource: `proj/${project};mobile:env/${env};critical:flag/checkout-${i % 31};internal,ops`,
          action,
        });
        break;
      case 2:
        accesses.push({ resource: `proj/${project}:env/${env};critical:segment/beta-${i % 13}`, action });
        break;
      case 3:
        accesses.push({ resource: `proj/${project}:env/*:flag/release.${i % 53}`, action });
        break;
      default:
        accesses.push({ resource: `member/${(i * 2654435761) % 4093}`, action: "updateRole" });
    }
  }
  return accesses;
}

/**
 * Evaluations per CPU second over `durationMs` of CPU time, in whole passes over the workload.
 * CPU time, not wall time: the work is single-threaded, and on a shared machine wall time also
 * counts the moments another process had the core.
 */
function measure(
  allows: (access: Access) => boolean,
  accesses: readonly Access[],
  durationMs: number,
): number {
  let evaluations = 0;
  let sink = 0;
  const start = process.cpuUsage();
  let elapsedMs = 0;
  do {
    for (let pass = 0; pass < 16; pass++) {
      for (let i = 0; i < accesses.length; i++) {
        if (allows(accesses[i]!)) sink++;
      }
    }
    evaluations += 16 * accesses.length;
    const used = process.cpuUsage(start);
    elapsedMs = (used.user + used.system) / 1000;
  } while (elapsedMs < durationMs);
  // The sink keeps the engine from dropping calls whose result is unused.
  if (sink === 0) throw new Error("benchmark workload allowed nothing: the policy or workload is wrong");
  return (evaluations * 1000) / elapsedMs;
}

export function benchPolicy(opts: { durationMs?: number } = {}): { policyPerSec: number } {
  const durationMs = opts.durationMs ?? 2500;
  const policy = compilePolicy(STATEMENTS);
  const accesses = workload();
  const allows = (access: Access) => policy.allows(access);
  measure(allows, accesses, Math.max(200, durationMs / RUNS)); // warm-up: JIT and the resource cache
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) rates.push(measure(allows, accesses, durationMs / RUNS));
  rates.sort((a, b) => a - b);
  return { policyPerSec: Math.round(rates[Math.floor(RUNS / 2)]!) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const { policyPerSec } = benchPolicy(durationMs === undefined ? {} : { durationMs });
  process.stdout.write(
    `policy: ${policyPerSec.toLocaleString("en-US")} evaluations/s (3-statement policy, one core, median of ${RUNS} runs)\n`,
  );
}
