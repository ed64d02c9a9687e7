/** The messages between the harness and the receiver process (see receiver-process.ts). */
export type ReceiverRequest =
  | { id: number; op: "reset"; record: boolean }
  | { id: number; op: "wait"; count: number; timeoutMs: number }
  | { id: number; op: "samples" }
  | { id: number; op: "counts" };

export type ReceiverAnswer =
  | { op: "ready"; port: number; deadPort: number }
  | { id: number; op: "done" }
  | { id: number; op: "reached" | "timeout"; count: number; firstAt: number; lastAt: number }
  | { id: number; op: "samples"; ids: string[]; arrivals: number[] }
  | {
      id: number;
      op: "counts";
      count: number;
      total: number;
      deadCount: number;
      firstAt: number;
      lastAt: number;
    };
