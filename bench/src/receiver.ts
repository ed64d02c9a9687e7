import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ReceiverAnswer, ReceiverRequest } from "./receiver-protocol";

// Distributive, so that each op keeps its own fields.
type RequestBody<R> = R extends { id: number } ? Omit<R, "id"> : never;

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
  const child: ChildProcess = fork(fileURLToPath(new URL("./receiver-process.ts", import.meta.url)), [], {
    execArgv: ["--import", import.meta.resolve("tsx/esm")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (answer: ReceiverAnswer) => void; reject: (e: Error) => void }
  >();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("exit", (code, signal) => {
    for (const { reject } of pending.values())
      reject(new Error(`the receiver process ended (${signal ?? `exit code ${code}`})`));
    pending.clear();
  });

  const ready = await new Promise<{ port: number; deadPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the receiver process did not start within 20 s")), 20e3);
    child.once("exit", () => reject(new Error("the receiver process ended before it was ready")));
    child.on("message", (answer: ReceiverAnswer) => {
      if (answer.op === "ready") {
        clearTimeout(timer);
        resolve(answer);
        return;
      }
      if (!("id" in answer)) return;
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      waiting?.resolve(answer);
    });
  });

  async function ask<O extends ReceiverAnswer["op"]>(
    request: RequestBody<ReceiverRequest>,
    ...expected: O[]
  ): Promise<Extract<ReceiverAnswer, { op: O }>> {
    const id = nextId++;
    const answer = await new Promise<ReceiverAnswer>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
    if (!(expected as string[]).includes(answer.op)) {
      throw new Error(`the receiver answered ${answer.op} to ${request.op}`);
    }
    return answer as Extract<ReceiverAnswer, { op: O }>;
  }

  return {
    pid: child.pid ?? 0,
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
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5e3);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
