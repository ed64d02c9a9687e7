/**
 * A helper process of the harness (the bench's receiver, the chaos recorder), forked under tsx
 * and spoken to over IPC: it first sends `{ op: "ready", … }`, then answers each request, which
 * carries an `id`, with an answer of the same `id`. One copy of the plumbing: the pending map,
 * the rejection of what is pending when the child ends, the ready handshake and the close.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A request as the caller writes it: without the `id`, which `ask` adds (distributive). */
export type RequestBody<R> = R extends { id: number } ? Omit<R, "id"> : never;

export interface IpcChild<Req extends { op: string; id: number }, Ans extends { op: string }> {
  readonly pid: number;
  /** Sends a request; rejects unless the answer's op is one of `expected`, or if the child ends. */
  ask<O extends Ans["op"]>(request: RequestBody<Req>, ...expected: O[]): Promise<Extract<Ans, { op: O }>>;
  /** Disconnects, SIGKILL after 5 s; resolves once the child ended. */
  close(): Promise<void>;
}

/**
 * Forks `module` (a URL) with `args` and resolves, with the child and its ready message, once it
 * said it is ready (within 20 s). `label` names it in errors ("the receiver process ...").
 */
export async function forkIpcChild<
  Req extends { op: string; id: number },
  Ans extends { op: string },
  Ready extends Ans,
>(module: URL, args: string[], label: string): Promise<{ child: IpcChild<Req, Ans>; ready: Ready }> {
  const child: ChildProcess = fork(fileURLToPath(module), args, {
    execArgv: ["--import", import.meta.resolve("tsx/esm")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (answer: Ans) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("exit", (code, signal) => {
    for (const { reject } of pending.values())
      reject(new Error(`the ${label} process ended (${signal ?? `exit code ${code}`})`));
    pending.clear();
  });

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${label} process did not start within 20 s`)), 20e3);
    child.once("exit", () => reject(new Error(`the ${label} process ended before it was ready`)));
    child.on("message", (answer: Ans & { id?: number }) => {
      if (answer.op === "ready") {
        clearTimeout(timer);
        resolve(answer as Ready);
        return;
      }
      if (answer.id === undefined) return;
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      waiting?.resolve(answer);
    });
  });

  return {
    ready,
    child: {
      pid: child.pid ?? 0,
      async ask<O extends Ans["op"]>(request: RequestBody<Req>, ...expected: O[]) {
        const id = nextId++;
        const answer = await new Promise<Ans>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          child.send({ ...request, id });
        });
        if (!(expected as string[]).includes(answer.op))
          throw new Error(`the ${label} answered ${answer.op} to ${request.op}`);
        return answer as Extract<Ans, { op: O }>;
      },
      async close() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.disconnect();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5e3);
        await exited;
        clearTimeout(timer);
      },
    },
  };
}
