import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

const ENTRIES = 300;

// One dead endpoint must not hold up the others. Asserted: every delivery of the healthy hook
// arrives while the dead hook's requests are still hanging. Printed only: the healthy hook's
// throughput beside the dead one relative to alone (timings are not asserted, CI machines vary;
// `npm run bench` measures it properly).
describe("isolation", () => {
  let system: System;
  let healthy: Receiver;
  let dead: Receiver;

  beforeAll(async () => {
    healthy = await startReceiver();
    dead = await startReceiver(() => {
      // Never answers.
    });
    system = await startSystem({ label: "isolation" });
  });
  afterAll(async () => {
    await system?.close();
    await healthy?.close();
    await dead?.close();
  });

  async function run(label: string): Promise<number> {
    const entries = Array.from({ length: ENTRIES }, (_, i) =>
      entryFixture("flag-toggle", { _id: `${label}-${i}` }),
    );
    const started = Date.now();
    for (let i = 0; i < entries.length; i += 100) {
      expect((await system.api("POST", "/v1/entries", entries.slice(i, i + 100))).status).toBe(202);
    }
    const ids = new Set(entries.map((e) => e._id));
    await healthy.waitFor(
      (requests) => requests.filter((r) => ids.has(JSON.parse(r.body)._id)).length === ENTRIES,
      30_000,
    );
    return ENTRIES / ((Date.now() - started) / 1000);
  }

  test("every delivery of a healthy hook arrives while a dead hook's requests hang", async () => {
    await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "healthy",
      formVariables: { url: healthy.url },
    });
    await run("warm-up");
    const alone = await run("alone");

    await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "dead",
      formVariables: { url: dead.url },
      delivery: { timeoutMs: 20_000 },
    });
    const beside = await run("beside-dead");
    // The dead hook got requests and none has been answered: they are all still hanging.
    expect(dead.requests.length).toBeGreaterThan(0);
    console.log(
      `isolation: healthy hook ${alone.toFixed(0)} deliveries/s alone, ${beside.toFixed(0)}/s beside a dead hook (ratio ${(beside / alone).toFixed(2)})`,
    );
  });
});
