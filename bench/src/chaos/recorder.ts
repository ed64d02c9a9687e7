import { forkIpcChild } from "../ipc-child";
import type { ArrivalTable, RecorderAnswer, RecorderRequest } from "./recorder-protocol";

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
  const { child, ready } = await forkIpcChild<
    RecorderRequest,
    RecorderAnswer,
    Extract<RecorderAnswer, { op: "ready" }>
  >(new URL("./recorder-process.ts", import.meta.url), [String(hangingOrigins)], "recorder");
  const ask = child.ask;

  return {
    pid: child.pid,
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
    close: () => child.close(),
  };
}
