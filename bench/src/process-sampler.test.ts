import { expect, test } from "vitest";
import { ProcessSampler, parseStatCpuMs, parseStatusKiB, readCpuMs, readStatusMiB } from "./process-sampler";

test("parseStatusKiB reads a kB field of /proc/<pid>/status", () => {
  const status = "Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
  expect(parseStatusKiB(status, "VmRSS")).toBe(102400);
  expect(parseStatusKiB(status, "VmHWM")).toBe(204800);
  expect(parseStatusKiB(status, "VmSwap")).toBeNaN();
});

test("parseStatCpuMs adds utime and stime, even when the command name holds spaces and parentheses", () => {
  const rest = "S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 13 0";
  expect(parseStatCpuMs(`1234 (node) ${rest}`)).toBe(3000);
  expect(parseStatCpuMs(`1234 (a (b) c) ${rest}`)).toBe(3000);
});

test.runIf(process.platform === "linux")("reads this very process", () => {
  expect(readStatusMiB(process.pid, "VmRSS")).toBeGreaterThan(1);
  expect(readCpuMs(process.pid)).toBeGreaterThan(0);
  expect(readStatusMiB(2 ** 30, "VmRSS")).toBeNaN();
});

test.runIf(process.platform === "linux")(
  "a name for several processes sums their CPU and keeps the largest peak",
  () => {
    const sampler = new ProcessSampler({ one: process.pid, twice: [process.pid, process.pid] });
    try {
      // 300 ms of CPU at the 10 ms resolution of /proc.
      const until = performance.now() + 300;
      while (performance.now() < until);
      const { one, twice } = sampler.take();
      expect(twice!.cpuMs / one!.cpuMs).toBeGreaterThan(1.8);
      expect(twice!.cpuMs / one!.cpuMs).toBeLessThan(2.2);
      expect(Math.abs(twice!.peakMiB - one!.peakMiB)).toBeLessThan(1);
    } finally {
      sampler.stop();
    }
  },
);
