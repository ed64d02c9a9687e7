/** The chaos run as a table, one verdict line per scenario, and the `--json` document. */
import { type ScenarioRow, verdictOf } from "./accounting";
import type { ScenarioResult } from "./scenario";

const COLUMNS: { title: string; cell: (row: ScenarioRow) => string }[] = [
  { title: "scenario", cell: (row) => row.name },
  { title: "accepted", cell: (row) => String(row.accepted) },
  { title: "delivered", cell: (row) => String(row.delivered) },
  { title: "lost", cell: (row) => String(row.lost) },
  { title: "duplicates", cell: (row) => String(row.duplicates) },
  { title: "stuck", cell: (row) => String(row.stuck) },
  { title: "inFlightAtFault", cell: (row) => optional(row.inFlightAtFault) },
  { title: "healthyP95Ms", cell: (row) => optional(row.healthyP95Ms) },
  { title: "healthyAloneP95Ms", cell: (row) => optional(row.healthyAloneP95Ms) },
];

function optional(value: number | null | undefined): string {
  if (value === undefined) return "-";
  return value === null ? "n/a" : String(Math.round(value));
}

export function formatTable(results: readonly ScenarioResult[]): string {
  const cells = [COLUMNS.map((c) => c.title), ...results.map((r) => COLUMNS.map((c) => c.cell(r.row)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) =>
    line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "),
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return `${lines.join("\n")}\n`;
}

/** `PASS name` or `FAIL name: 50 lost, 3 stuck`. */
export function verdictLine(result: ScenarioResult): string {
  const { ok, problems } = verdictOf(result.row, result.gaveUpEntries);
  return ok ? `PASS ${result.row.name}` : `FAIL ${result.row.name}: ${problems.join(", ")}`;
}

/** `{"scenarios": [...]}` with each row's keys only (the optional ones where measured). */
export function jsonReport(results: readonly ScenarioResult[]): string {
  const scenarios = results.map(({ row }) => {
    const out: ScenarioRow = {
      name: row.name,
      accepted: row.accepted,
      delivered: row.delivered,
      lost: row.lost,
      duplicates: row.duplicates,
      stuck: row.stuck,
    };
    if (row.inFlightAtFault !== undefined) out.inFlightAtFault = row.inFlightAtFault;
    if (row.healthyP95Ms !== undefined) out.healthyP95Ms = row.healthyP95Ms;
    if (row.healthyAloneP95Ms !== undefined) out.healthyAloneP95Ms = row.healthyAloneP95Ms;
    return out;
  });
  return `${JSON.stringify({ scenarios }, null, 2)}\n`;
}
