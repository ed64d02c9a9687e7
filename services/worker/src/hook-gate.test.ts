import { describe, expect, test } from "vitest";
import { HookGate } from "./hook-gate";

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
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await release.promise;
        running--;
      }),
    );
    // Let the first tasks start, then finish them one by one.
    await Promise.resolve();
    for (const release of releases) {
      release.resolve();
      await Promise.resolve();
    }
    await Promise.all(done);
    expect(peak).toBe(3);
    expect(running).toBe(0);
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
});
