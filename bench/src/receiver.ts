import { forkIpcChild } from "./ipc-child";
import type { ReceiverAnswer, ReceiverRequest } from "./receiver-protocol";

export interface Arrival {
  count: number;
  /** Receiver clock (Date.now()) of the first and the last request since the reset. */
  firstAt: number;
  lastAt: number;
}

/** The receiver process, seen from the harness. */
export interface Receiver {
  readonly pid: number;
  /** http://127.0.0.1:<port>: answers 200 at once. */
  readonly url: string;
  /** http://127.0.0.1:<port>: never answers. */
  readonly deadUrl: string;
  /** Zeroes the counts; with `record`, keeps every request's delivery id and arrival time. */
  reset(record?: boolean): Promise<void>;
  /** Resolves once `count` requests arrived since the reset; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<Arrival>;
  /** The recorded delivery ids and arrival times (receiver clock, ms). */
  samples(): Promise<{ ids: string[]; arrivals: number[] }>;
  /** Since the reset, plus `total`: healthy requests since the receiver started. */
  counts(): Promise<Arrival & { deadCount: number; total: number }>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const { child, ready } = await forkIpcChild<
    ReceiverRequest,
    ReceiverAnswer,
    Extract<ReceiverAnswer, { op: "ready" }>
  >(new URL("./receiver-process.ts", import.meta.url), [], "receiver");
  const ask = child.ask;

  return {
    pid: child.pid,
    url: `http://127.0.0.1:${ready.port}`,
    deadUrl: `http://127.0.0.1:${ready.deadPort}`,
    async reset(record = false) {
      await ask({ op: "reset", record }, "done");
    },
    async waitFor(count, timeoutMs) {
      const answer = await ask({ op: "wait", count, timeoutMs }, "reached", "timeout");
      if (answer.op === "timeout") {
        throw new Error(`the receiver got ${answer.count} of ${count} requests within ${timeoutMs} ms`);
      }
      return { count: answer.count, firstAt: answer.firstAt, lastAt: answer.lastAt };
    },
    async samples() {
      const answer = await ask({ op: "samples" }, "samples");
      return { ids: answer.ids, arrivals: answer.arrivals };
    },
    async counts() {
      const answer = await ask({ op: "counts" }, "counts");
      return {
        count: answer.count,
        total: answer.total,
        deadCount: answer.deadCount,
        firstAt: answer.firstAt,
        lastAt: answer.lastAt,
      };
    },
    close: () => child.close(),
  };
}
