import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { type Receiver, startReceiver } from "./support/receiver";
import { type OwnRedis, ownRedis } from "./support/redis-server";
import { type SentinelGroup, startSentinelGroup } from "./support/sentinel";
import { type System, startSystem } from "./support/system";

// Redis Sentinel: ingest and the worker reach the master through the sentinels, follow a failover
// by themselves, and with HOOKWIRE_REDIS_WAIT_REPLICAS=1 an entry answered 202 survives the loss
// of the master it was written to. Every wait is on an event (a sentinel's +switch-master, a
// replica's sync, the receiver's requests), none on a timer.
describe("on a Sentinel group", () => {
  let group: SentinelGroup | undefined;
  let receiver: Receiver | undefined;
  let system: System | undefined;

  beforeAll(async () => {
    group = await startSentinelGroup({ downAfterMs: 1_000, failoverTimeoutMs: 5_000 });
    receiver = await startReceiver();
    system = await startSystem({
      label: "sentinel",
      env: {
        ...group.env,
        HOOKWIRE_REDIS_WAIT_REPLICAS: "1",
        HOOKWIRE_REDIS_WAIT_TIMEOUT_MS: "300",
        // A batch whose job was relayed on the old master only is found by the sweeper soon.
        HOOKWIRE_WORKER_LOCK_MS: "2000",
        // A lease whose request died with the old master (replicated, never released) lapses soon.
        HOOKWIRE_CLAIM_LEASE_MS: "1000",
        LOG_LEVEL: "info",
      },
    });
  }, 60_000);

  afterAll(async () => {
    await system?.close();
    await receiver?.close();
    await group?.stop();
  });

  test("the master SIGKILLed under a stream of posts: the replica is promoted, ingest and the worker follow it, and no entry answered 202 is lost", async () => {
    const sys = system!;
    const rx = receiver!;
    const [master, replica] = group!.nodes;
    const hook = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "sentinel receiver",
      formVariables: { url: `${rx.url}/in` },
    });
    expect(hook.status).toBe(201);

    // Two clients post one entry at a time, each retrying an entry until it is answered 202, as
    // a client of ingest should (a 503 or 409 with Retry-After, or a dropped connection).
    const acknowledged = new Set<string>();
    const refusals = new Map<string, number>();
    const waiters: { target: number; resolve: () => void }[] = [];
    /** Resolves once `count` more entries are answered 202: on the answer, not on a timer. */
    const accepted = (count: number) =>
      new Promise<void>((resolve) => waiters.push({ target: acknowledged.size + count, resolve }));
    let running = true;
    let sequence = 0;
    const client = async (name: string) => {
      while (running) {
        const id = `sentinel-${name}-${sequence++}`;
        for (;;) {
          const answer = await sys
            .api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: id }))
            .catch(() => ({ status: 0, json: undefined }));
          if (answer.status === 202) {
            acknowledged.add(id);
            for (const waiter of waiters.filter((w) => acknowledged.size >= w.target)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve();
            }
            break;
          }
          const why = `${answer.status} ${answer.json?.error?.code ?? "no answer"}`;
          refusals.set(why, (refusals.get(why) ?? 0) + 1);
          // Pacing, not synchronisation: a client backs off before it retries.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const clients = Promise.all([client("a"), client("b")]);

    await accepted(20);
    const switched = group!.switched();
    await master.kill();
    // The sentinels agree the master is down and promote the replica.
    expect(await switched).toBe(replica.port);

    // The new master has no replica yet: with WAIT 1 ingest refuses (503 + Retry-After) rather
    // than acknowledge entries that one more crash would lose, until the old master comes back
    // (restarted, empty) as the new master's replica and has its data.
    await master.restart(replica.port);
    await master.printed(/MASTER <-> REPLICA sync: Finished with success/, 20_000);

    // Ingest and the worker found the new master by themselves: posts are accepted again.
    await accepted(20);
    running = false;
    await clients;

    // Every entry answered 202 arrives at the receiver (the generic webhook's body carries _id).
    const arrived = () => new Set(rx.requests.map((r) => String(JSON.parse(r.body)._id)));
    await rx.waitFor(() => [...acknowledged].every((id) => arrived().has(id)), 30_000).catch(() => undefined);
    const lost = [...acknowledged].filter((id) => !arrived().has(id));
    expect({ acknowledged: acknowledged.size, lost }).toEqual({ acknowledged: acknowledged.size, lost: [] });
    expect(acknowledged.size).toBeGreaterThanOrEqual(40);
    // The failover was felt: some posts were refused while it ran, and none failed as a 500.
    expect(refusals.size).toBeGreaterThan(0);
    expect([...refusals.keys()].filter((why) => why.startsWith("500"))).toEqual([]);
  }, 90_000);
});

// The refusal itself, on a Redis of the test's own that has no replica at all.
describe("HOOKWIRE_REDIS_WAIT_REPLICAS=1 where no replica answers", () => {
  let redis: OwnRedis | undefined;
  let system: System | undefined;

  beforeAll(async () => {
    redis = await ownRedis();
    await redis.start();
    system = await startSystem({
      label: "wait-replicas",
      env: { REDIS_URL: redis.url, HOOKWIRE_REDIS_WAIT_REPLICAS: "1", HOOKWIRE_REDIS_WAIT_TIMEOUT_MS: "50" },
      worker: false,
    });
  });

  afterAll(async () => {
    await system?.close();
    await redis?.stop();
  });

  test("a post is answered 503 with Retry-After, and so is its retry: a duplicate is answered 202 only once replicas hold it", async () => {
    const sys = system!;
    const hook = await sys.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "unreplicated",
      formVariables: { url: "http://127.0.0.1:9/in" },
    });
    expect(hook.status).toBe(201);
    const entry = entryFixture("flag-toggle", { _id: "wait-replicas-0001" });
    for (const attempt of ["first", "retry"]) {
      const answer = await sys.api("POST", "/v1/entries", entry);
      expect({ attempt, status: answer.status, code: answer.json.error.code }).toEqual({
        attempt,
        status: 503,
        code: "API_ERR_UNAVAILABLE",
      });
      expect(answer.headers.get("retry-after")).toBe("2");
      expect(answer.json.error.message).toMatch(/0 of the 1 replicas/);
    }
    // The first commit did reach the master: kept there, delivered if this master stays (a
    // duplicate at worst), never answered 202 until a replica holds it.
    const deliveries = await sys.api("GET", "/v1/deliveries?entryId=wait-replicas-0001");
    expect(deliveries.json.deliveries.map((d: { status: string }) => d.status)).toEqual(["pending"]);
  });
});
