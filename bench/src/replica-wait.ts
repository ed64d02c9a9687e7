/**
 * `npx tsx bench/src/replica-wait.ts [--rounds N]`: what HOOKWIRE_REDIS_WAIT_REPLICAS=1 costs
 * ingest. Starts a master and a replica of its own (redis-server on loopback, append-only file on,
 * as in production), the real ingest and worker against the master, and alternates the variants
 * (A: no WAIT, B: WAIT 1; ABBA, restarted each time) while it measures how long ingest takes to
 * answer 202: one client posting one entry at a time, one posting requests of 100 entries, and
 * eight clients posting one entry at a time (where commits share their WAITs). Prints the medians
 * of the rounds. A measuring tool like `npm run bench`, not a test: it never fails on a number.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startReceiver } from "./receiver";
import { freePort } from "./service-process";
import { median, percentileOfSorted, perSecond } from "./statistics";
import { startSystem } from "./system-under-test";
import { benchEntry } from "./workload";

const VARIANTS = {
  A: {},
  B: { HOOKWIRE_REDIS_WAIT_REPLICAS: "1" },
} as const satisfies Record<string, Record<string, string>>;
type Variant = keyof typeof VARIANTS;

/** A redis-server of this run, resolved once it printed `ready` (its log line), never on a timer. */
function redisServer(port: number, dir: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
      ...["--appendonly", "yes", "--appendfsync", "everysec", "--repl-diskless-sync-delay", "0"],
      ...args,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (ready.test(seen)) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`redis-server :${port} exited (${code}):\n${seen}`)));
  });
}

interface Round {
  single: number[];
  hundred: number[];
  concurrentRps: number;
  concurrent: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "4" } } });
  const rounds = Number(values.rounds);
  const say = (line: string) => process.stderr.write(`replica-wait: ${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), "hookwire-replica-wait-"));
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const servers: ChildProcess[] = [];
  const receiver = await startReceiver();
  try {
    servers.push(await redisServer(masterPort, join(dir), [], /Ready to accept connections/));
    servers.push(
      await redisServer(
        replicaPort,
        join(dir),
        [
          "--replicaof",
          "127.0.0.1",
          String(masterPort),
          "--appendfilename",
          "replica.aof",
          "--appenddirname",
          "replica",
        ],
        /MASTER <-> REPLICA sync: Finished with success/,
      ),
    );
    say(`master :${masterPort}, replica :${replicaPort} in sync`);
    const system = await startSystem({ redisUrl: `redis://127.0.0.1:${masterPort}` });
    try {
      await system.setHooks(1, receiver.url);
      const samples: Record<Variant, Round[]> = { A: [], B: [] };
      let series = 0;
      const post = async (count: number): Promise<number> => {
        const batch = Array.from({ length: count }, (_, i) => benchEntry(`rw-${series}-${i}`));
        series += 1;
        const body = JSON.stringify(count === 1 ? batch[0] : batch);
        const started = performance.now();
        await system.client.postEntries(body);
        return performance.now() - started;
      };
      for (let round = 0; round < rounds; round++) {
        const order: Variant[] = round % 2 === 0 ? ["A", "B"] : ["B", "A"];
        for (const name of order) {
          await system.restart(VARIANTS[name]);
          for (let i = 0; i < 50; i++) await post(1); // warm-up: JIT, connections
          const single: number[] = [];
          for (let i = 0; i < 400; i++) single.push(await post(1));
          const hundred: number[] = [];
          for (let i = 0; i < 40; i++) hundred.push(await post(100));
          const concurrent: number[] = [];
          const started = performance.now();
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              for (let i = 0; i < 150; i++) concurrent.push(await post(1));
            }),
          );
          const concurrentRps = perSecond(concurrent.length, performance.now() - started);
          samples[name].push({ single, hundred, concurrent, concurrentRps });
          const p50 = (list: number[]) => median(list).toFixed(2);
          say(
            `round ${round + 1} ${name}: 1 entry p50 ${p50(single)} ms, 100 entries p50 ${p50(hundred)} ms, 8 clients p50 ${p50(concurrent)} ms at ${Math.round(concurrentRps)} requests/s`,
          );
        }
      }
      const summary = (name: Variant) => {
        const list = samples[name];
        const of = (pick: (r: Round) => number[], p: number) =>
          median(
            list.map((r) =>
              percentileOfSorted(
                [...pick(r)].sort((x, y) => x - y),
                p,
              ),
            ),
          );
        return {
          single50: of((r) => r.single, 50),
          single95: of((r) => r.single, 95),
          hundred50: of((r) => r.hundred, 50),
          hundred95: of((r) => r.hundred, 95),
          concurrent50: of((r) => r.concurrent, 50),
          concurrent95: of((r) => r.concurrent, 95),
          rps: median(list.map((r) => r.concurrentRps)),
        };
      };
      const line = (name: Variant) => {
        const s = summary(name);
        return `${name}  1 entry ${s.single50.toFixed(2)} / ${s.single95.toFixed(2)} ms   100 entries ${s.hundred50.toFixed(2)} / ${s.hundred95.toFixed(2)} ms   8 clients ${s.concurrent50.toFixed(2)} / ${s.concurrent95.toFixed(2)} ms, ${Math.round(s.rps)} requests/s`;
      };
      process.stdout.write(
        `202 latency p50 / p95, medians of ${rounds} rounds (A: no WAIT, B: HOOKWIRE_REDIS_WAIT_REPLICAS=1)\n${line("A")}\n${line("B")}\n`,
      );
    } finally {
      await system.stop();
    }
  } finally {
    await receiver.close();
    for (const server of servers) server.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`replica-wait: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
