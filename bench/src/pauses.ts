/**
 * A service's pauses over a stretch of a run, read from its Prometheus endpoint (prom-client's
 * default metrics): the event loop's delay, p99 and max, from the histogram prom-client resets on
 * every scrape (so a scrape at the start begins the stretch), and the garbage collector's pauses,
 * from the difference of its cumulative duration histogram. prom-client samples the loop every
 * 10 ms and its figures include that interval: an idle loop reads ~10 ms.
 */
import { request } from "undici";

export interface Pauses {
  /** Event loop delay over the stretch, p99 and max (ms). */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Collector pauses over the stretch: how many, their sum, and that sum over the stretch's wall time. */
  gcCount: number;
  gcMs: number;
  gcShare: number;
}

interface Sample {
  at: number;
  loopP99Ms: number;
  loopMaxMs: number;
  gcCount: number;
  gcMs: number;
}

/** The figures of one scrape's text. */
export function readSample(text: string, at: number): Sample {
  let loopP99 = Number.NaN;
  let loopMax = Number.NaN;
  let gcCount = 0;
  let gcSeconds = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const name = line.slice(0, line.indexOf("{") < 0 ? space : line.indexOf("{"));
    const value = Number(line.slice(space + 1));
    if (name === "nodejs_eventloop_lag_p99_seconds") loopP99 = value;
    else if (name === "nodejs_eventloop_lag_max_seconds") loopMax = value;
    else if (name === "nodejs_gc_duration_seconds_count") gcCount += value;
    else if (name === "nodejs_gc_duration_seconds_sum") gcSeconds += value;
  }
  return { at, loopP99Ms: loopP99 * 1000, loopMaxMs: loopMax * 1000, gcCount, gcMs: gcSeconds * 1000 };
}

async function scrape(url: string): Promise<Sample> {
  const { body } = await request(url);
  return readSample(await body.text(), Date.now());
}

/** Starts a stretch (a scrape, which resets the loop's histogram); `end` answers its pauses. */
export async function watchPauses(url: string): Promise<{ end(): Promise<Pauses> }> {
  const start = await scrape(url);
  return {
    async end() {
      const last = await scrape(url);
      return pausesBetween(start, last);
    },
  };
}

export function pausesBetween(start: Sample, last: Sample): Pauses {
  const gcMs = last.gcMs - start.gcMs;
  return {
    loopP99Ms: last.loopP99Ms,
    loopMaxMs: last.loopMaxMs,
    gcCount: last.gcCount - start.gcCount,
    gcMs,
    gcShare: gcMs / Math.max(1, last.at - start.at),
  };
}
