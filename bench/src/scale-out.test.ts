import { describe, expect, test } from "vitest";
import { formatScale, type ScaleFigures } from "./scale-out";

const figures = (dps: number, worker: number): ScaleFigures => {
  const one = { dps, cpuUs: { worker, ingest: 20, redis: 10 } };
  return { drain: one, h1: one, h10: one };
};

describe("formatScale", () => {
  test("puts each figure of the single Redis and the cluster side by side, with their ratio", () => {
    const table = formatScale(figures(10_000, 100), figures(5_000, 150), 3).split("\n");
    expect(table[0]).toMatch(/^figure\s+single Redis\s+cluster \(3 masters\)\s+cluster \/ single$/);
    const drain = table.find((line) => line.startsWith("drain, 10 hooks: deliveries"));
    expect(drain).toMatch(/10,000\/s\s+5,000\/s\s+×0\.50/);
    const worker = table.find((line) => line.startsWith("e2e H=10: worker CPU per delivery"));
    expect(worker).toMatch(/100 µs\s+150 µs\s+×1\.50/);
    // Three figures, each a rate and three CPU rows, under one header.
    expect(table.filter((line) => line !== "")).toHaveLength(1 + 3 * 4);
  });
});
