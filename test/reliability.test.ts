import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { idempotencyRedisKey } from "@hookwire/ingest";
import { DELIVERY_QUEUE, keyspace, MAX_JOB_DELIVERIES } from "@hookwire/queue";
import { takeLeases } from "@hookwire/store";
import { Queue } from "bullmq";
import { describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver } from "./support/receiver";
import { type OwnRedis, ownRedis } from "./support/redis-server";
import { testScope } from "./support/scope";
import type { System } from "./support/system";

// The promise is at least once: an entry answered 202 is delivered, whatever crashed when; and a
// request that was not answered 202 can be sent again and is then processed, never taken for a
// duplicate of something that was not queued. One test per invariant; none asserts a time.

const scope = testScope();
const system = scope.system;
const receiver = scope.receiver;

async function hookTo(sys: System, url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await sys.api("POST", "/v1/hooks", {
    integration: "generic-webhook",
    name: `to ${url}`,
    formVariables: { url },
    ...extra,
  });
  expect(created.status).toBe(201);
  return created.json.id as string;
}

function entries(label: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => entryFixture("flag-toggle", { _id: `${label}-${i}` }));
}

/** Entry ids of the requests a receiver got (the generic webhook's body carries `_id`). */
function arrivedIds(rx: Receiver): Set<string> {
  return new Set(rx.requests.map((r) => String(JSON.parse(r.body)._id)));
}

/**
 * Redis' MONITOR over a socket of its own, from its OK on: `seen` is told each chunk with the end
 * of the one before (so a key split between two chunks is still seen whole). Not ioredis'
 * monitor(): lines that come in the same chunk as MONITOR's OK reach its connection before it
 * counts itself in monitor mode, and it throws a "Command queue state error" for each.
 */
async function watchCommands(url: string, seen: (text: string) => void): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = createConnection({ host: hostname, port: Number(port) });
  await once(socket, "connect");
  socket.write("MONITOR\r\n");
  let tail = "";
  let answered = false;
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("data", (chunk: Buffer) => {
      const text = tail + chunk.toString("latin1");
      if (!answered) {
        answered = true;
        if (text.startsWith("+OK\r\n")) resolve();
        else reject(new Error(`MONITOR was answered ${JSON.stringify(text.slice(0, 80))}`));
      }
      seen(text);
      tail = text.slice(-200);
    });
  });
  // A trigger only: what becomes of its socket once it is watching is nothing the test asserts.
  socket.on("error", () => undefined);
  return socket;
}

/** Posts as a retrying client does: the same body and headers until 202, at most `tries` times. */
async function postUntilAccepted(
  sys: System,
  body: unknown,
  headers: Record<string, string> = {},
  tries = 200,
): Promise<{ status: number; json: any; headers: Headers; refused: number[] }> {
  const refused: number[] = [];
  for (let i = 0; i < tries; i++) {
    const answer = await sys.api("POST", "/v1/entries", body, headers);
    if (answer.status === 202) return { ...answer, refused };
    refused.push(answer.status);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not accepted after ${tries} tries: ${refused.slice(-5).join(", ")}`);
}

/** A worker of this process on the system's Redis, with settings of its own (e.g. another key). */
const extraWorker = scope.worker;

describe("nothing accepted is lost", () => {
  test("entries whose first request died between lease and commit are answered 409, then accepted and delivered on retry", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-lease", env: { HOOKWIRE_CLAIM_LEASE_MS: "500" } });
    await hookTo(sys, rx.url);
    const posted = entries("died", 5);
    // What an ingest killed after leasing the entry ids and before its commit leaves behind.
    const keys = keyspace(sys.config.queuePrefix);
    const dead = await takeLeases(
      sys.redis,
      posted.map((e) => keys.entrySeen(String(e._id))),
      500,
    );
    dead.lease.end();

    const first = await sys.api("POST", "/v1/entries", posted);
    expect(first.status).toBe(409);
    expect(first.json.error.code).toBe("API_ERR_IN_PROGRESS");
    expect(first.json.error.problems.map((p: { pointer: string }) => p.pointer)).toEqual([
      "/0/_id",
      "/1/_id",
      "/2/_id",
      "/3/_id",
      "/4/_id",
    ]);
    expect(first.headers.get("retry-after")).toBe("1");

    const accepted = await postUntilAccepted(sys, posted);
    expect(accepted.json.entries.map((e: { duplicate: boolean }) => e.duplicate)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    await rx.waitFor(() => arrivedIds(rx).size === 5);
    expect([...arrivedIds(rx)].sort()).toEqual(posted.map((e) => String(e._id)).sort());
  });

  test("an Idempotency-Key whose first request died is processed again once its lease lapses", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-idem", env: { HOOKWIRE_CLAIM_LEASE_MS: "500" } });
    await hookTo(sys, rx.url);
    const keys = keyspace(sys.config.queuePrefix);
    const dead = await takeLeases(sys.redis, [idempotencyRedisKey(keys, "HOOKWIRE_API_KEY", "req-1")], 500);
    dead.lease.end();
    const posted = entries("idem", 3);

    const first = await sys.api("POST", "/v1/entries", posted, { "idempotency-key": "req-1" });
    expect(first.status).toBe(409);
    const accepted = await postUntilAccepted(sys, posted, { "idempotency-key": "req-1" });
    expect(accepted.headers.get("idempotent-replayed")).toBeNull();
    expect(accepted.json.entries.every((e: { duplicate: boolean }) => !e.duplicate)).toBe(true);
    await rx.waitFor(() => arrivedIds(rx).size === 3);

    // The finished answer is kept for the window, as before.
    const again = await sys.api("POST", "/v1/entries", posted, { "idempotency-key": "req-1" });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  test("a request cut by a Redis freeze is answered 503, and its retry is accepted and delivered", async () => {
    const redis: OwnRedis = await ownRedis({ appendonly: true });
    await redis.start();
    scope.defer(async () => {
      redis.signal("SIGCONT");
      await redis.stop();
    });
    const rx = await receiver();
    // The freeze may land before the commit (the retry is accepted anew) or just after Redis ran
    // it, its answer unsent (the retry is answered duplicate, and a sweeper relays the batches
    // once their lease lapses): both must end delivered, so the lease is short here.
    const sys = await system({
      label: "rel-freeze",
      env: { REDIS_URL: redis.url, HOOKWIRE_CLAIM_LEASE_MS: "500", HOOKWIRE_WORKER_LOCK_MS: "2000" },
    });
    await hookTo(sys, rx.url);

    // Freeze Redis the moment it has run a request's lease, before the commit can follow. The
    // monitor's line races ingest's next command (this process runs both), so the freeze can also
    // land after the 202 went out: then that request was simply accepted, and another is tried,
    // up to FREEZE_TRIES. Every entry of every try must arrive, whichever way its try went.
    const FREEZE_TRIES = 6;
    const delivered: string[] = [];
    let cutStatus: number | undefined;
    for (let attempt = 0; attempt < FREEZE_TRIES && cutStatus !== 503; attempt++) {
      const label = `freeze${attempt}`;
      const posted = entries(label, 10);
      delivered.push(...posted.map((e) => String(e._id)));
      let frozen = false;
      const watching = await watchCommands(redis.url, (seen) => {
        if (!frozen && seen.includes(`:entry:${label}-`)) {
          frozen = true;
          redis.signal("SIGSTOP");
        }
      });
      scope.defer(async () => {
        watching.destroy();
      });
      // Thawed before the system stops (cleanups run last first), should the test end while frozen.
      scope.defer(async () => redis.signal("SIGCONT"));
      const cut = await sys.api("POST", "/v1/entries", posted);
      expect(frozen).toBe(true);
      redis.signal("SIGCONT");
      watching.destroy();
      cutStatus = cut.status;
      expect([202, 503]).toContain(cutStatus);
      if (cutStatus === 503) await postUntilAccepted(sys, posted);
    }
    expect(cutStatus).toBe(503);

    await rx.waitFor(() => arrivedIds(rx).size === delivered.length, 20_000);
    expect([...arrivedIds(rx)].sort()).toEqual(delivered.sort());
  });

  test("a job that throws is retried with backoff, not dropped, and a good worker delivers it", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-throw", worker: false });
    await hookTo(sys, rx.url, { formVariables: { url: rx.url, secret: "s3cret-value" } });
    expect((await sys.api("POST", "/v1/entries", entries("throw", 2))).status).toBe(202);

    const queue = new Queue(DELIVERY_QUEUE, { connection: sys.redis, prefix: sys.config.queuePrefix });
    scope.defer(() => queue.close());
    // A worker started with another HOOKWIRE_SECRET_KEY cannot open the hook's secret: its job throws.
    const wrong = await extraWorker(sys, { HOOKWIRE_SECRET_KEY: randomBytes(32).toString("hex") });
    await eventually(
      async () => {
        const jobs = await queue.getJobs(["delayed", "wait"]);
        return jobs.length === 1 && (jobs[0]?.attemptsMade ?? 0) >= 1;
      },
      10_000,
      "the thrown job waiting for its next run",
    );
    expect(await queue.getJobCounts("failed")).toEqual({ failed: 0 });
    await wrong.close(500);

    await extraWorker(sys);
    await rx.waitFor(() => arrivedIds(rx).size === 2, 15_000);
    const records = await sys.api("GET", "/v1/deliveries?status=succeeded");
    expect(records.json.deliveries).toHaveLength(2);
  });

  test("in a shared job, batches whose hand-over throws go back as jobs of their own, and are delivered", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-throw-shared", worker: false });
    await hookTo(sys, `${rx.url}/sealed`, {
      formVariables: { url: `${rx.url}/sealed`, secret: "s3cret-value" },
    });
    await hookTo(sys, `${rx.url}/plain`);
    expect((await sys.api("POST", "/v1/entries", entries("throw-shared", 2))).status).toBe(202);
    const queue = new Queue(DELIVERY_QUEUE, { connection: sys.redis, prefix: sys.config.queuePrefix });
    scope.defer(() => queue.close());
    expect((await queue.getJobs(["wait"])).map((job) => "batches" in job.data)).toEqual([true]);

    // This worker cannot open the sealed hook's secret, so it cannot read the hooks: each batch
    // goes back on its own, to be retried alone, and the shared job is done.
    const wrong = await extraWorker(sys, { HOOKWIRE_SECRET_KEY: randomBytes(32).toString("hex") });
    await eventually(
      async () => {
        const jobs = await queue.getJobs(["delayed", "wait", "active"]);
        return jobs.length === 2 && jobs.every((job) => !("batches" in job.data));
      },
      10_000,
      "each batch queued on its own",
    );
    expect(await queue.getJobCounts("failed")).toEqual({ failed: 0 });
    await wrong.close(500);

    await extraWorker(sys);
    await rx.waitFor((requests) => requests.length === 4, 15_000);
    expect(rx.requests.filter((r) => r.url === "/sealed")).toHaveLength(2);
    expect(rx.requests.filter((r) => r.url === "/plain")).toHaveLength(2);
  });

  test("a job run again after its batch was written sends nothing more", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-rerun", worker: false });
    await hookTo(sys, rx.url);
    expect((await sys.api("POST", "/v1/entries", entries("rerun", 3))).status).toBe(202);
    const queue = new Queue(DELIVERY_QUEUE, { connection: sys.redis, prefix: sys.config.queuePrefix });
    scope.defer(() => queue.close());
    const [job] = await queue.getJobs(["wait"]);
    expect(job?.data).toMatchObject({ size: 3 });
    await extraWorker(sys);
    await rx.waitFor(() => rx.requests.length === 3);
    await eventually(async () => (await queue.getJob(job!.id!)) === undefined, 10_000, "the job done");

    // The same job again, as after a crash between the batch's commit and the job's completion.
    await queue.add(job!.name, job!.data, { jobId: job!.id! });
    await eventually(async () => (await queue.getJob(job!.id!)) === undefined, 10_000, "the rerun done");
    expect(rx.requests).toHaveLength(3);
  });

  test("deliveries whose queued job was lost are found by a sweeper, counted as stuck, and delivered", async () => {
    const rx = await receiver();
    const sys = await system({ label: "rel-sweep", worker: false, env: { HOOKWIRE_WORKER_LOCK_MS: "1000" } });
    await hookTo(sys, rx.url);
    expect((await sys.api("POST", "/v1/entries", entries("lost", 4))).status).toBe(202);
    // BullMQ loses every job (an operator's obliterate, a Redis that dropped them).
    const queue = new Queue(DELIVERY_QUEUE, { connection: sys.redis, prefix: sys.config.queuePrefix });
    scope.defer(() => queue.close());
    await queue.obliterate({ force: true });
    expect(await sys.pendingJobs()).toBe(0);
    const pending = await sys.api("GET", "/v1/deliveries?status=pending");
    expect(pending.json.deliveries).toHaveLength(4);

    const worker = await extraWorker(sys);
    await rx.waitFor(() => arrivedIds(rx).size === 4, 15_000);
    const metrics = await worker.metrics.registry.getSingleMetricAsString(
      "hookwire_deliveries_stuck_requeued_total",
    );
    expect(metrics).toMatch(/hookwire_deliveries_stuck_requeued_total 4$/m);
    const keys = keyspace(sys.config.queuePrefix);
    // Counted in the minute the sweep ran: this one, or the one before when a minute turned since.
    const now = Math.floor(Date.now() / 60e3);
    const counts = await Promise.all(
      [now - 1, now].map((minute) => sys.redis.hget(keys.statsMinute(minute), "deliveries:stuck")),
    );
    expect(counts.reduce((sum, count) => sum + Number(count ?? 0), 0)).toBe(4);
  });
});

describe("no hook starves another", () => {
  test(`small batches of many hooks share jobs of up to ${MAX_JOB_DELIVERIES} deliveries, and every delivery of them arrives`, async () => {
    // Twelve hooks and batches of a twelfth of a job and a bit: eleven fit in one job, the
    // twelfth does not.
    const perHook = Math.floor(MAX_JOB_DELIVERIES / 11);
    expect(12 * perHook).toBeGreaterThan(MAX_JOB_DELIVERIES);
    const rx = await receiver();
    const sys = await system({ label: "rel-share", worker: false });
    const hooks: string[] = [];
    for (let i = 0; i < 12; i++) hooks.push(await hookTo(sys, `${rx.url}/h${i}`));
    expect((await sys.api("POST", "/v1/entries", entries("share", perHook))).status).toBe(202);
    const queue = new Queue(DELIVERY_QUEUE, { connection: sys.redis, prefix: sys.config.queuePrefix });
    scope.defer(() => queue.close());
    // Eleven batches in one job, the last in a job of its own.
    const jobs = await queue.getJobs(["wait"]);
    const shared = jobs.filter((job) => "batches" in job.data);
    expect(jobs).toHaveLength(2);
    expect(shared).toHaveLength(1);
    expect(shared[0]?.data.batches).toHaveLength(11);
    expect(new Set(shared[0]?.data.batches.map((b: { hookId: string }) => b.hookId)).size).toBe(11);

    await extraWorker(sys);
    await rx.waitFor((requests) => requests.length === 12 * perHook, 15_000);
    const byHook = new Map<string, number>();
    for (const request of rx.requests) byHook.set(request.url, (byHook.get(request.url) ?? 0) + 1);
    expect(byHook.size).toBe(12);
    expect([...byHook.values()].every((n) => n === perHook)).toBe(true);
    expect(await queue.getJobCounts("failed", "wait", "delayed", "active")).toEqual({
      failed: 0,
      wait: 0,
      delayed: 0,
      active: 0,
    });
  });

  /**
   * A hook that answers, slowly: four requests at a time, 20 ms each (200 a second), warmed up so
   * that the worker knows its pace; then 8 batches of 50 (2 s of its work) posted at once.
   */
  async function busyHook(label: string, workerOn = true) {
    const rx = await receiver((_request, response) => {
      setTimeout(() => response.writeHead(200).end("{}"), 20);
    });
    const sys = await system({ label, worker: workerOn, env: { HOOKWIRE_SHUTDOWN_GRACE_MS: "200" } });
    const worker = workerOn ? sys.worker : await extraWorker(sys);
    await hookTo(sys, `${rx.url}/busy`, { delivery: { concurrency: 4 } });
    expect((await sys.api("POST", "/v1/entries", entries(`${label}-warm`, 1))).status).toBe(202);
    await rx.waitFor((requests) => requests.length === 1);
    const posted = entries(label, 400);
    for (let i = 0; i < posted.length; i += 50) {
      expect((await sys.api("POST", "/v1/entries", posted.slice(i, i + 50))).status).toBe(202);
    }
    return { rx, sys, worker: worker!, posted };
  }

  test("a busy hook's batches wait in the worker, in no job slot and not delayed in the queue, and all arrive", async () => {
    const { rx, sys, posted } = await busyHook("rel-park");
    // Every job is taken and done while most of the hook's work is still ahead: its batches wait
    // in the worker's memory. Had they waited in job slots (active) or gone back to the queue
    // (delayed), the queue would empty only with the last batch or two left to send.
    await eventually(async () => (await sys.pendingJobs()) === 0, 10_000, "the queue empties");
    expect(posted.length + 1 - rx.requests.length).toBeGreaterThanOrEqual(150);
    await rx.waitFor(() => arrivedIds(rx).size === posted.length + 1, 20_000);
    expect(await sys.pendingJobs()).toBe(0);
  });

  test("the batches parked in a worker that stops go back to the queue, and the next worker delivers them", async () => {
    const { rx, sys, worker, posted } = await busyHook("rel-unpark", false);
    await eventually(async () => (await sys.pendingJobs()) === 0, 10_000, "the queue empties");
    await worker.close(200);
    const left = posted.length + 1 - arrivedIds(rx).size;
    expect(left).toBeGreaterThan(0);
    // What the stopped worker had parked (and had not sent) is queued again, due now.
    expect(await sys.pendingJobs()).toBeGreaterThan(0);
    await extraWorker(sys);
    await rx.waitFor(() => arrivedIds(rx).size === posted.length + 1, 20_000);
  });

  test("a healthy hook beside 40 hooks whose receiver never answers gets every delivery", async () => {
    const healthy = await receiver();
    const hanging = await receiver(() => {
      // Takes the request and never answers.
    });
    // Fewer job slots than hanging hooks: were slots held by deliveries waiting on a receiver,
    // the healthy hook would get none before the hanging attempts time out (60 s).
    const sys = await system({
      label: "rel-starve",
      env: { HOOKWIRE_WORKER_CONCURRENCY: "8", HOOKWIRE_SHUTDOWN_GRACE_MS: "200" },
    });
    for (let i = 0; i < 40; i++)
      await hookTo(sys, `${hanging.url}/dead-${i}`, { delivery: { timeoutMs: 60_000 } });
    await hookTo(sys, `${healthy.url}/alive`);
    const posted = entries("starve", 200);
    for (let i = 0; i < posted.length; i += 100) {
      expect((await sys.api("POST", "/v1/entries", posted.slice(i, i + 100))).status).toBe(202);
    }
    await healthy.waitFor(() => arrivedIds(healthy).size === 200, 25_000);
    expect(arrivedIds(healthy).size).toBe(200);
    // The hanging hooks are really holding requests open meanwhile.
    expect(hanging.requests.length).toBeGreaterThan(0);
  });
});
