/**
 * The messages between the chaos harness and its recording receiver (see recorder-process.ts).
 * Every answer carries the request's `id`; the first message out is `ready`.
 */
export type RecorderRequest =
  | { id: number; op: "reset" }
  | { id: number; op: "arrivals" }
  | { id: number; op: "counts" }
  | { id: number; op: "nextArrival"; timeoutMs: number };

/** Per distinct delivery id: when it first arrived (receiver clock, Date.now()) and how often. */
export interface ArrivalTable {
  ids: string[];
  firstAt: number[];
  counts: number[];
}

export type RecorderAnswer =
  | { op: "ready"; port: number; hangingPorts: number[] }
  | { id: number; op: "done" }
  | ({ id: number; op: "arrivals" } & ArrivalTable)
  | { id: number; op: "counts"; distinct: number; requests: number; hanging: number; hangingOpen: number }
  | { id: number; op: "arrived"; at: number }
  | { id: number; op: "timeout" };
