import { describe, expect, it } from "vitest";
import { jsonReport, verdictLine } from "./report";

const base = { name: "worker-kill", accepted: 6, delivered: 5, lost: 1, duplicates: 0, stuck: 0 };

describe("the chaos report", () => {
  it("writes each row with the issue's keys only, the optional ones where measured", () => {
    const rows = [
      { row: { ...base, inFlightAtFault: 2 }, gaveUpEntries: 0, notes: ["kept out of the JSON"] },
      {
        row: { ...base, name: "hanging-hooks", healthyP95Ms: null, healthyAloneP95Ms: 12 },
        gaveUpEntries: 0,
        notes: [],
      },
    ];
    const parsed = JSON.parse(jsonReport(rows)) as { scenarios: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(["scenarios"]);
    expect(Object.keys(parsed.scenarios[0]!)).toEqual([
      "name",
      "accepted",
      "delivered",
      "lost",
      "duplicates",
      "stuck",
      "inFlightAtFault",
    ]);
    expect(parsed.scenarios[1]).toMatchObject({ healthyP95Ms: null, healthyAloneP95Ms: 12 });
    expect(parsed.scenarios[1]).not.toHaveProperty("inFlightAtFault");
  });

  it("says what failed on the verdict line", () => {
    expect(verdictLine({ row: base, gaveUpEntries: 0, notes: [] })).toBe("FAIL worker-kill: 1 lost");
    expect(verdictLine({ row: { ...base, lost: 0, delivered: 6 }, gaveUpEntries: 0, notes: [] })).toBe(
      "PASS worker-kill",
    );
  });
});
