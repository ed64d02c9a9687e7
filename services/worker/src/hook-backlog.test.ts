import { describe, expect, test } from "vitest";
import { HookBacklogs } from "./hook-backlog";

const gate = { concurrency: 10 };

describe("HookBacklogs", () => {
  test("a hook with nothing held, or a small backlog, is always admitted", () => {
    const backlogs = new HookBacklogs();
    expect(backlogs.admit("h", 500, gate, 0)).toEqual({ admit: true });
    backlogs.enter("h", 25, 0);
    expect(backlogs.admit("h", 25, gate, 60_000)).toEqual({ admit: true }); // 50 = 5 gate widths
  });

  test("a stalled hook may hold its allowance here (memory, not slots), then its jobs go back; so when the worker holds its most", () => {
    const backlogs = new HookBacklogs({ stalledGateWidths: 20, maxHeld: 380 });
    backlogs.enter("dead", 175, 0);
    // Stalled, 175 + 25 = 200 = 20 gate widths: still taken in.
    expect(backlogs.admit("dead", 25, gate, 10_000)).toEqual({ admit: true });
    backlogs.enter("dead", 25, 0);
    expect(backlogs.admit("dead", 25, gate, 10_000)).toMatchObject({ admit: false, stalled: true });
    // Another stalled hook, within its own allowance, but the worker is full.
    backlogs.enter("other", 190, 0);
    expect(backlogs.admit("other", 10, gate, 10_000)).toEqual({
      admit: false,
      delayMs: 5_000,
      stalled: true,
    });
    backlogs.leave("dead", 200);
    expect(backlogs.admit("other", 10, gate, 10_000)).toEqual({ admit: true });
  });

  test("a hook that finishes nothing is taken to be as slow as its stall, and sent back with a doubling backoff", () => {
    const backlogs = new HookBacklogs({ stalledGateWidths: 5, horizonMs: 2_000 });
    backlogs.enter("dead", 25, 0);
    backlogs.enter("dead", 25, 0);
    // 75 deliveries, 10 at a time, 50 ms each so far: 375 ms of work, within the 2 s bound.
    expect(backlogs.admit("dead", 25, gate, 50)).toEqual({ admit: true });
    // Stalled 400 ms: 3 s of work, and no pace measured: the backoff.
    expect(backlogs.admit("dead", 25, gate, 400)).toEqual({ admit: false, delayMs: 200, stalled: true });
    expect(backlogs.admit("dead", 25, gate, 400, 3)).toEqual({ admit: false, delayMs: 1_600, stalled: true });
    expect(backlogs.admit("dead", 25, gate, 400, 40)).toEqual({
      admit: false,
      delayMs: 30_000,
      stalled: true,
    });
    // Stalled 10 s: back in no less than 5 s, even on its first return.
    expect(backlogs.admit("dead", 25, gate, 10_000)).toEqual({ admit: false, delayMs: 5_000, stalled: true });
  });

  test("a hook that answered before and then stops finishing is treated the same once stalled past the bound", () => {
    const backlogs = new HookBacklogs({ stalledGateWidths: 5 });
    backlogs.enter("h", 100, 0);
    backlogs.done("h", 5, 10);
    // Stalled 2 001 ms since its last attempt: the backoff (800 ms) or half the stall, the longer.
    expect(backlogs.admit("h", 25, gate, 2_011, 2)).toEqual({ admit: false, delayMs: 1_001, stalled: true });
  });

  test("a fast hook may hold a long backlog, as long as it clears within the horizon", () => {
    const backlogs = new HookBacklogs({ horizonMs: 2_000 });
    backlogs.enter("fast", 1_000, 0);
    for (let i = 0; i < 20; i++) backlogs.done("fast", 5, 10);
    // 980 + 25 deliveries, 10 at a time, 5 ms each: about 500 ms of work.
    expect(backlogs.admit("fast", 25, gate, 10)).toEqual({ admit: true });
    // The same backlog at 50 ms an attempt is 5 s of work: sent back for half of that, so that
    // the gate does not run dry before the job is back.
    for (let i = 0; i < 100; i++) backlogs.done("fast", 50, 20);
    backlogs.enter("fast", 100, 20);
    const verdict = backlogs.admit("fast", 25, gate, 20);
    expect(verdict.admit).toBe(false);
    if (!verdict.admit) expect(Math.abs(verdict.delayMs - 2_512)).toBeLessThan(25);
  });

  test("a rate-limited hook is judged by its rate, however fast its receiver answers", () => {
    const backlogs = new HookBacklogs({ horizonMs: 2_000 });
    backlogs.enter("limited", 60, 0);
    backlogs.done("limited", 1, 1);
    expect(backlogs.admit("limited", 25, { concurrency: 10, ratePerSecond: 100 }, 1)).toEqual({
      admit: true,
    });
    expect(backlogs.admit("limited", 25, { concurrency: 10, ratePerSecond: 1 }, 1)).toEqual({
      admit: false,
      delayMs: 30_000,
      stalled: false,
    });
  });

  test("by default a busy hook is admitted only while its backlog clears within 250 ms", () => {
    const backlogs = new HookBacklogs();
    backlogs.enter("h", 200, 0);
    for (let i = 0; i < 20; i++) backlogs.done("h", 10, 5);
    // 180 + 25 deliveries, 10 at a time, 10 ms each: about 205 ms of work.
    expect(backlogs.admit("h", 25, gate, 5)).toEqual({ admit: true });
    // 100 more: about 305 ms, past the horizon though far from stalled: back, not stalled.
    backlogs.enter("h", 100, 5);
    expect(backlogs.admit("h", 25, gate, 5)).toMatchObject({ admit: false, stalled: false });
  });

  test("done and leave give the deliveries back; a hook emptied and started again is not stalled", () => {
    const backlogs = new HookBacklogs();
    backlogs.enter("h", 3, 0);
    backlogs.done("h", 4, 1);
    backlogs.done("h", undefined, 1);
    backlogs.leave("h", 1);
    expect(backlogs.held("h")).toBe(0);
    backlogs.leave("h", 5);
    expect(backlogs.held("h")).toBe(0);
    backlogs.enter("h", 60, 100_000);
    expect(backlogs.admit("h", 1, gate, 100_001)).toEqual({ admit: true }); // 61 × 0.1 × 4 ms
  });
});
