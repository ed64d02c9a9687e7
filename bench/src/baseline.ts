import { type Dispatcher, Pool } from "undici";
import type { Receiver } from "./receiver";
import { median, perSecond } from "./statistics";
import type { RenderedRequest } from "./workload";

/**
 * The worker's sender keeps this many connections per origin, and every bench hook posts to the
 * one receiver origin: the bare loop gets as many requests in flight as the worker can have.
 */
export const BASELINE_CONCURRENCY = 32;

export interface BaselineResult {
  rps: number;
  concurrency: number;
  runs: number[];
}

/**
 * Phase 1, the yardstick: a bare undici loop POSTing the request the worker would send (same
 * body, same headers, signature included) straight to the receiver, `concurrency` in flight, by
 * the same undici path as the worker (`post` below).
 * Bounded in time (`durationMs` a run) and in count.
 */
export async function runBaseline(
  receiver: Receiver,
  request: RenderedRequest,
  options: { runs: number; durationMs: number; warmUpMs: number; concurrency?: number },
): Promise<BaselineResult> {
  const concurrency = options.concurrency ?? BASELINE_CONCURRENCY;
  const pool = new Pool(receiver.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30e3 });
  try {
    await loop(pool, request, concurrency, options.warmUpMs); // warm-up: JIT, sockets
    const runs: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      await receiver.reset();
      const { count, elapsedMs } = await loop(pool, request, concurrency, options.durationMs);
      const arrived = await receiver.counts();
      if (arrived.count !== count) {
        throw new Error(`the receiver counted ${arrived.count} requests, the loop sent ${count}`);
      }
      runs.push(perSecond(count, elapsedMs));
    }
    return { rps: median(runs), concurrency, runs };
  } finally {
    await pool.close();
  }
}

const MAX_REQUESTS_PER_RUN = 5_000_000;

/**
 * One POST through undici's `dispatch` with a handler that reads the status and lets the body
 * go, as the worker's sender sends (not `request()`, whose Readable and promise chain per
 * response made the bare loop ~1.3× slower than the leanest undici client): the yardstick is
 * the cheapest way this machine has to make these requests.
 */
function post(pool: Pool, request: RenderedRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onConnect() {},
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        resolve(status);
      },
      onError: reject,
    };
    pool.dispatch(
      {
        path: "/baseline",
        method: "POST",
        headers: request.headers,
        body: request.body,
        headersTimeout: 10e3,
        bodyTimeout: 10e3,
      },
      handler,
    );
  });
}

async function loop(
  pool: Pool,
  request: RenderedRequest,
  concurrency: number,
  durationMs: number,
): Promise<{ count: number; elapsedMs: number }> {
  const started = performance.now();
  const until = started + durationMs;
  let count = 0;
  const lane = async () => {
    while (performance.now() < until && count < MAX_REQUESTS_PER_RUN) {
      const status = await post(pool, request);
      if (status !== 200) throw new Error(`the receiver answered ${status}`);
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { count, elapsedMs: performance.now() - started };
}
