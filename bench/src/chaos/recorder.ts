import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ArrivalTable, RecorderAnswer, RecorderRequest } from "./recorder-protocol";

type RequestBody<R> = R extends { id: number } ? Omit<R, "id"> : never;

export interface RecorderCounts {
  /** Distinct delivery ids that arrived at an `/ok/` path since the reset. */
  distinct: number;
  /** Requests that arrived at an `/ok/` path, repeats included. */
  requests: number;
  /** Requests taken at a `/hang/` path, and those still held open. */
  hanging: number;
  hangingOpen: number;
}

/** The recording receiver process (recorder-process.ts), seen from the harness. */
export interface Recorder {
  readonly pid: number;
  /** http://127.0.0.1:<port>: `/ok/<name>` answers 200, `/hang/<name>` never answers. */
  readonly url: string;
  /** One more origin per hanging hook (same handler: give them `/hang/` paths). */
  readonly hangingUrls: readonly string[];
  /** Forgets every arrival and drops the requests held open. */
  reset(): Promise<void>;
  arrivals(): Promise<ArrivalTable>;
  counts(): Promise<RecorderCounts>;
  /** Resolves at the next arrival at an `/ok/` path (its time), or `undefined` after `timeoutMs`. */
  nextArrival(timeoutMs: number): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function startRecorder(hangingOrigins: number): Promise<Recorder> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./recorder-process.ts", import.meta.url)),
    [String(hangingOrigins)],
    {
      execArgv: ["--import", import.meta.resolve("tsx/esm")],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  let nextId = 1;
  const pending = new Map<number, { resolve: (a: RecorderAnswer) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("exit", (code, signal) => {
    for (const { reject } of pending.values())
      reject(new Error(`the recorder process ended (${signal ?? `exit code ${code}`})`));
    pending.clear();
  });

  const ready = await new Promise<{ port: number; hangingPorts: number[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the recorder process did not start within 20 s")), 20e3);
    child.once("exit", () => reject(new Error("the recorder process ended before it was ready")));
    child.on("message", (answer: RecorderAnswer) => {
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

  async function ask<O extends RecorderAnswer["op"]>(
    request: RequestBody<RecorderRequest>,
    ...expected: O[]
  ): Promise<Extract<RecorderAnswer, { op: O }>> {
    const id = nextId++;
    const answer = await new Promise<RecorderAnswer>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
    if (!(expected as string[]).includes(answer.op))
      throw new Error(`the recorder answered ${answer.op} to ${request.op}`);
    return answer as Extract<RecorderAnswer, { op: O }>;
  }

  return {
    pid: child.pid ?? 0,
    url: `http://127.0.0.1:${ready.port}`,
    hangingUrls: ready.hangingPorts.map((port) => `http://127.0.0.1:${port}`),
    async reset() {
      await ask({ op: "reset" }, "done");
    },
    async arrivals() {
      const { ids, firstAt, counts } = await ask({ op: "arrivals" }, "arrivals");
      return { ids, firstAt, counts };
    },
    async counts() {
      const { distinct, requests, hanging, hangingOpen } = await ask({ op: "counts" }, "counts");
      return { distinct, requests, hanging, hangingOpen };
    },
    async nextArrival(timeoutMs) {
      const answer = await ask({ op: "nextArrival", timeoutMs }, "arrived", "timeout");
      return answer.op === "arrived" ? answer.at : undefined;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5e3);
      await exited;
      clearTimeout(timer);
    },
  };
}
