import { describe, expect, it } from "vitest";
import { expectedDeliveries, inFlightAtFault, p95OfExpected, tally, verdictOf } from "./accounting";

const row = { name: "s", accepted: 10, delivered: 10, lost: 0, duplicates: 0, stuck: 0 };

describe("chaos accounting", () => {
  it("expects one delivery per accepted entry and hook, with the worker's delivery ids", () => {
    expect([...expectedDeliveries(["e1", "e2", "e1"], ["hA", "hB"])].sort()).toEqual([
      "hA.e1",
      "hA.e2",
      "hB.e1",
      "hB.e2",
    ]);
  });

  it("counts lost, repeats and unexpected arrivals from the receiver's table", () => {
    const expected = new Set(["h.1", "h.2", "h.3"]);
    const counted = tally(expected, {
      ids: ["h.1", "h.3", "h.9"],
      firstAt: [0, 0, 0],
      counts: [3, 1, 2],
    });
    expect(counted).toMatchObject({ accepted: 3, delivered: 2, lost: 1, duplicates: 3, unexpected: 1 });
    expect(counted.lostIds).toEqual(["h.2"]);
  });

  it("counts in flight what the receiver took without a recorded success, and the unanswered requests, once each", () => {
    const received = ["h.1", "h.2", "h.3"];
    expect(inFlightAtFault(received, new Set(["h.1"]), ["h.3", "h.4"])).toBe(3);
    expect(inFlightAtFault(received, new Set(received), [])).toBe(0);
  });

  it("takes the nearest-rank p95 over every expected delivery, a missing one as infinitely late", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `h.${i}`);
    const accepted = new Map(ids.map((id) => [id, 1_000]));
    const arrived = new Map(ids.map((id, i) => [id, 1_000 + (i + 1) * 10]));
    expect(p95OfExpected(ids, arrived, accepted)).toBe(190);
    arrived.delete("h.0");
    // One of 20 missing is 5 %: the p95 is still the 19th value, now 200 ms.
    expect(p95OfExpected(ids, arrived, accepted)).toBe(200);
    arrived.delete("h.1");
    expect(p95OfExpected(ids, arrived, accepted)).toBeNull();
  });

  it("fails a row on loss, stuck records, more repeats than were in flight, or a slow healthy hook", () => {
    expect(verdictOf(row).ok).toBe(true);
    expect(verdictOf({ ...row, lost: 1 }).problems).toEqual(["1 lost"]);
    expect(verdictOf({ ...row, stuck: 2 }).problems).toEqual(["2 stuck"]);
    expect(verdictOf({ ...row, duplicates: 5, inFlightAtFault: 5 }).ok).toBe(true);
    expect(verdictOf({ ...row, duplicates: 6, inFlightAtFault: 5 }).ok).toBe(false);
    expect(verdictOf({ ...row, duplicates: 1 }).ok).toBe(false);
    expect(verdictOf(row, 50).problems[0]).toMatch(/50 entries never answered 202/);
    expect(verdictOf({ ...row, healthyP95Ms: 20, healthyAloneP95Ms: 10 }).ok).toBe(true);
    expect(verdictOf({ ...row, healthyP95Ms: 21, healthyAloneP95Ms: 10 }).ok).toBe(false);
    expect(verdictOf({ ...row, healthyP95Ms: null, healthyAloneP95Ms: 10 }).ok).toBe(false);
  });
});
