import { PROJECT_ROOT } from "@hookwire/config";
import { catalogDirs, loadCatalog } from "@hookwire/manifest";
import { compilePolicy, RESOURCE_TYPES } from "@hookwire/policy";
import { DELIVERY_QUEUE, type DeliveryJobData, defineScripts, Outbox, Partitions } from "@hookwire/queue";
import {
  addEvent,
  DeliveryLog,
  DeliveryWriter,
  generateSecretKey,
  HookStore,
  LEASE_SCRIPTS,
  OPERATIONAL_ACTIONS,
  SecretBox,
} from "@hookwire/store";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { Intake } from "./intake";
import { eventEntry, OperationalEvents } from "./operational-events";

const redis = testRedis();
const prefix = uniquePrefix("operational-events");
const partitions = new Partitions(prefix);
const keys = partitions.base.keys;
const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix });
const log = new DeliveryLog(redis, keys);
const hooks = new HookStore(redis, keys, new SecretBox(generateSecretKey()), { cacheMs: 0 });
let intake: Intake;

beforeAll(async () => {
  defineScripts(redis, LEASE_SCRIPTS);
  intake = new Intake({
    redis,
    keys,
    hooks,
    partitions,
    writers: [new DeliveryWriter(redis, log, new Outbox(keys, queue, 30_000))],
    catalog: await loadCatalog(catalogDirs(PROJECT_ROOT, {})),
    idempotencyWindowMs: 60_000,
    claimLeaseMs: 5_000,
  });
  for (const id of ["hk-operators", "hk-subject"]) {
    await hooks.create(
      {
        id,
        integration: "generic-webhook",
        name: id,
        formVariables: { url: `http://127.0.0.1:9/${id}` },
        policy: [{ effect: "allow", resources: ["hook/*"], actions: ["*"] }],
      },
      new Set(),
    );
  }
});
afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function emit(action: (typeof OPERATIONAL_ACTIONS)[number], hookId: string): Promise<string> {
  const tx = redis.multi();
  addEvent(tx, keys, { action, hookId, at: Date.now(), detail: "test" });
  const [[, id]] = (await tx.exec()) as [[null, string]];
  return id;
}

describe("operational events", () => {
  test("the hook resource type of the policy catalog lists exactly the events' actions", () => {
    expect(RESOURCE_TYPES.hook?.actions).toEqual([...OPERATIONAL_ACTIONS]);
  });

  test("an event's entry has one access on hook/<id>: hook/* allows it, a project policy does not", () => {
    const entry = eventEntry(
      { action: "hookDisabled", hookId: "hk-x", at: 1_700_000_000_000, detail: "HTTP 410" },
      "1700000000000-0",
      0,
      { name: "billing", integration: "generic-webhook" },
    );
    expect(entry).toMatchObject({
      _id: "hookwire.p0.1700000000000-0",
      kind: "hookwire",
      accesses: [{ action: "hookDisabled", resource: "hook/hk-x" }],
      title: { plainText: "hookwire turned hook billing off" },
      details: { plainText: "HTTP 410" },
      hook: { id: "hk-x", name: "billing", integration: "generic-webhook" },
    });
    const accesses = entry.accesses ?? [];
    expect(
      compilePolicy([{ effect: "allow", resources: ["hook/*"], actions: ["*"] }]).allowsAny(accesses),
    ).toBe(true);
    expect(
      compilePolicy([{ effect: "allow", resources: ["proj/*"], actions: ["*"] }]).allowsAny(accesses),
    ).toBe(false);
  });

  test("each event is delivered to every hook but its own, acknowledged, and one per hook and action within the window", async () => {
    const events = new OperationalEvents({ redis, partitions, hooks, intake, windowMs: 60_000 });
    const first = await emit("hookCircuitOpened", "hk-subject");
    const again = await emit("hookCircuitOpened", "hk-subject");
    const other = await emit("deliveryExhausted", "hk-subject");
    expect(await events.poll()).toBe(3);

    const delivered = async (id: string) => log.get(`hk-operators.hookwire.p0.${id}`);
    expect(await delivered(first)).toMatchObject({ status: "pending" });
    expect(await delivered(other)).toMatchObject({ status: "pending" });
    // The second opening within the window is dropped, and nothing goes to the hook it is about.
    expect(await delivered(again)).toBeUndefined();
    expect(events.dropped).toBe(1);
    expect(await log.get(`hk-subject.hookwire.p0.${first}`)).toBeUndefined();
    // Every event was acknowledged: nothing is left for another round.
    expect((await redis.xpending(keys.events, "ingest"))[0]).toBe(0);
    expect(await events.poll()).toBe(0);
  });
});
