import { describe, expect, test } from "vitest";
import { FIRST_WINDOW, HookGate } from "./hook-gate";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("HookGate", () => {
  test("never lets more than `concurrency` tasks run at once, and runs them all", async () => {
    const gate = new HookGate(3);
    let running = 0;
    let peak = 0;
    const releases = Array.from({ length: 10 }, () => deferred());
    const done = releases.map((release) =>
      gate.run(
        async () => {
          running++;
          peak = Math.max(peak, running);
          await release.promise;
          running--;
        },
        () => "answered",
      ),
    );
    // Let the first tasks start, then finish them one by one.
    await settleMicrotasks();
    for (const release of releases) {
      release.resolve();
      await settleMicrotasks();
    }
    await Promise.all(done);
    expect(peak).toBe(3);
    expect(running).toBe(0);
  });

  test("a hook no answer came from yet has FIRST_WINDOW in flight; each answer doubles that, up to `concurrency`", async () => {
    const gate = new HookGate(10);
    const started: number[] = [];
    const releases = Array.from({ length: 20 }, () => deferred());
    const done = releases.map((release, i) =>
      gate.run(
        async () => {
          started.push(i);
          await release.promise;
        },
        () => "answered",
      ),
    );
    await settleMicrotasks();
    expect(started).toHaveLength(FIRST_WINDOW);
    expect(gate.width).toBe(FIRST_WINDOW);
    releases[0]!.resolve();
    await settleMicrotasks();
    // One finished, and the window is twice as wide: the rest of it starts.
    expect(gate.width).toBe(FIRST_WINDOW * 2);
    expect(started).toHaveLength(1 + FIRST_WINDOW * 2);
    releases[1]!.resolve();
    await settleMicrotasks();
    expect(gate.width).toBe(FIRST_WINDOW * 4);
    expect(started).toHaveLength(2 + FIRST_WINDOW * 4);
    releases[2]!.resolve();
    await settleMicrotasks();
    expect(gate.width).toBe(10);
    expect(started).toHaveLength(13);
    for (const release of releases) release.resolve();
    await Promise.all(done);
    expect(started).toHaveLength(20);
  });

  test("an attempt that got no answer halves the window, never below FIRST_WINDOW; one with no attempt leaves it", async () => {
    const gate = new HookGate(16);
    for (let i = 0; i < 3; i++)
      await gate.run(
        async () => undefined,
        () => "answered",
      );
    expect(gate.width).toBe(16);
    await gate.run(
      async () => undefined,
      () => "unanswered",
    );
    expect(gate.width).toBe(8);
    await gate.run(
      async () => undefined,
      () => "none",
    );
    expect(gate.width).toBe(8);
    for (let i = 0; i < 5; i++)
      await gate.run(
        async () => undefined,
        () => "unanswered",
      );
    expect(gate.width).toBe(FIRST_WINDOW);
  });

  test("raising the limit wakes waiting tasks at once", async () => {
    const gate = new HookGate(1);
    const hold = deferred();
    let started = 0;
    const first = gate.run(async () => {
      started++;
      await hold.promise;
    });
    const second = gate.run(async () => {
      started++;
    });
    await Promise.resolve();
    expect(started).toBe(1);
    gate.configure(2);
    await second;
    expect(started).toBe(2);
    hold.resolve();
    await first;
  });

  test("a task that fails, at once or later, gives its slot to the next and its caller the error", async () => {
    const gate = new HookGate(1);
    const hold = deferred();
    const order: string[] = [];
    const first = gate.run(async () => {
      order.push("first");
      await hold.promise;
      throw new Error("later");
    });
    const second = gate.run(() => {
      order.push("second");
      throw new Error("at once");
    });
    const third = gate.run(async () => {
      order.push("third");
      return "done";
    });
    await settleMicrotasks();
    expect(order).toEqual(["first"]);
    hold.resolve();
    await expect(first).rejects.toThrow("later");
    await expect(second).rejects.toThrow("at once");
    await expect(third).resolves.toBe("done");
    expect(order).toEqual(["first", "second", "third"]);
    // Every slot came back: a full width runs at once again.
    let running = 0;
    await gate.run(async () => {
      running++;
    });
    expect(running).toBe(1);
  });

  test("submit tells a task's end by a call; a `heard` that throws is the task's failure and frees its slot", async () => {
    const gate = new HookGate(1);
    const order: string[] = [];
    const failures: string[] = [];
    gate.submit(
      async () => "one",
      () => {
        throw new Error("heard broke");
      },
      () => order.push("ended one"),
      (error) => failures.push((error as Error).message),
    );
    gate.submit(
      async () => {
        order.push("started two");
        return "two";
      },
      () => "answered",
      (value) => order.push(`ended ${value}`),
      (error) => failures.push((error as Error).message),
    );
    await settleMicrotasks();
    expect(failures).toEqual(["heard broke"]);
    // The first was never told it ended, and its slot came back: the second ran in it.
    expect(order).toEqual(["started two", "ended two"]);
    let running = 0;
    await gate.run(async () => {
      running++;
    });
    expect(running).toBe(1);
  });
});

/** Lets every task that can start now start (each start is a few promise hops). */
async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
