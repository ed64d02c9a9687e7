import { expect, test } from "vitest";
import { type BenchReport, checkTargets, formatTable } from "./report";

function figures(hooks: number, over: Partial<Record<string, number>> = {}) {
  return {
    hooks,
    eps: 3000,
    dps: 3000 * hooks,
    ratio: 0.4,
    p50Ms: 5,
    p95Ms: 15,
    p99Ms: 40,
    maxMs: 60,
    offeredDps: 1000,
    answerP50Ms: 3,
    answerP95Ms: 6,
    latencySamples: 10000,
    ...over,
  };
}

function sample(): Omit<BenchReport, "targets"> {
  return {
    machine: {
      cpus: 2,
      cpuModel: "test",
      memoryMiB: 1024,
      os: "Linux",
      node: "v20",
      redis: "7.0",
      bullmq: "6",
      undici: "7",
      loadAverage: [0, 0, 0],
      startedAt: "2026-01-01T00:00:00.000Z",
    },
    settings: { quick: true, runs: 1, env: {} },
    baseline: { rps: 30000, concurrency: 32, runs: [30000] },
    drain: {
      dps: 15000,
      ratio: 0.45,
      deliveries: 1000,
      hooks: 10,
      runs: [15000],
      redisBytesPerDelivery: 1070,
    },
    e2e: {
      h1: figures(1, { ratio: 0.2, wideDps: 12000, wideRatio: 0.4, wideConcurrency: 32, answerP95Ms: 9 }),
      h10: figures(10, { ratio: 0.55, p99Ms: 60 }),
    },
    isolation: { ratio: 0.97, dps: 16000, aloneDps: 16500, hooks: 10, deadHookRequests: 10 },
    micro: { policyPerSec: 2e6, rendersPerSec: 1e5 },
    memory: { drain: { workerMiB: 180, ingestMiB: 150 } }, // worker over its 150 MiB, ingest under 200
    phases: {
      drain: { wallMs: 2000, requests: 1000, processes: { worker: { peakMiB: 180, cpuMs: 150 } } },
    },
    durationSeconds: 42,
  };
}

test("the JSON keeps the keys issue 8 asks for", () => {
  const report = { ...sample(), targets: checkTargets(sample()) };
  const json = JSON.parse(JSON.stringify(report));
  expect(Object.keys(json)).toEqual(
    expect.arrayContaining(["machine", "baseline", "drain", "e2e", "isolation", "micro"]),
  );
  expect(json.baseline).toHaveProperty("rps");
  expect(json.drain).toEqual(expect.objectContaining({ dps: 15000, ratio: 0.45 }));
  for (const key of ["h1", "h10"]) {
    for (const field of ["eps", "dps", "ratio", "p50Ms", "p95Ms", "p99Ms"]) {
      expect(json.e2e[key]).toHaveProperty(field);
    }
  }
  expect(json.isolation).toHaveProperty("ratio");
  expect(json.micro).toEqual({ policyPerSec: 2e6, rendersPerSec: 1e5 });
});

test("targets: each figure of issue 15's table against its bound", () => {
  const checks = checkTargets(sample());
  const met = Object.fromEntries(checks.map((c) => [c.name, c.met]));
  expect(met).toEqual({
    "drain ratio": false,
    "Redis bytes per delivery kept": false,
    "e2e H=1 ratio, delivery.concurrency 32": true,
    "e2e H=10 deliveries ratio": true,
    "H=1 p95 at 1000/s": true,
    "H=1 p99 at 1000/s": true,
    "H=1 ingest 202 p95": false,
    "isolation ratio": true,
    "worker CPU per delivery, drain": false, // 150 ms over 1 000 requests: 150 µs
    "worker peak RSS": false,
    "ingest peak RSS": true,
  });
});

test("H=1 is reported at the default concurrency and judged at 32", () => {
  const table = formatTable({ ...sample(), targets: checkTargets(sample()) });
  expect(table).toMatch(/^e2e H=1 +deliveries, the default delivery\.concurrency +3,000\/s +0\.20$/m);
  expect(table).toMatch(
    /^e2e H=1 +deliveries, the hook's delivery\.concurrency at 32 +12,000\/s +0\.40 +≥ 0\.35 +ok$/m,
  );
  expect(table).toMatch(/^drain +worker CPU per delivery .* +150 µs +≤ 70 µs +MISSED$/m);
});

test("each service's pauses during the latency run are shown beside it", () => {
  const report = sample();
  report.e2e.h1 = {
    ...(report.e2e.h1 as NonNullable<typeof report.e2e.h1>),
    ingestPauses: { loopP99Ms: 12, loopMaxMs: 31, gcCount: 60, gcMs: 120, gcShare: 0.06 },
  };
  const table = formatTable({ ...report, targets: checkTargets(report) });
  expect(table).toMatch(
    /^e2e H=1 +ingest's pauses: loop delay p99 \/ max \(idle reads 10\); collector +12 \/ 31 ms; 60 pauses, 6\.0 % of the time$/m,
  );
  expect(table).not.toContain("worker's pauses");
});

test("a phase that did not run has no target and no row", () => {
  const partial = { ...sample(), drain: null, isolation: null, phases: {} };
  const checks = checkTargets(partial);
  expect(checks.map((c) => c.name)).not.toContain("drain ratio");
  expect(checks.map((c) => c.name)).not.toContain("worker CPU per delivery, drain");
  const table = formatTable({ ...partial, targets: checks });
  expect(table).not.toMatch(/^drain +deliveries/m);
  expect(table).not.toMatch(/^isolation/m);
  expect(table).toMatch(/^e2e H=10 +deliveries +30,000\/s +0\.55 +≥ 0\.45 +ok$/m);
  expect(table).toContain("5 of 7 targets met");
});
