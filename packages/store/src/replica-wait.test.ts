import { afterAll, describe, expect, test } from "vitest";
import { dropPrefix, testRedis, uniquePrefix } from "../../../test/support/redis";
import { ReplicaWait } from "./replica-wait";

const redis = testRedis();
const prefix = uniquePrefix("replica-wait");

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

// The test Redis has no replica: every WAIT 1 answers 0 once its timeout passes.
describe("ReplicaWait", () => {
  test("commits answered while a WAIT is in flight share the next one: three WAITs for ten commits", async () => {
    const sent: number[] = [];
    const counted = redis.duplicate();
    const wait = counted.wait.bind(counted);
    // Counts the WAITs the real connection sends; Redis answers them.
    counted.wait = ((replicas: number, timeout: number) => {
      sent.push(Date.now());
      return wait(replicas, timeout);
    }) as typeof counted.wait;
    try {
      const replicaWait = new ReplicaWait(counted, { replicas: 1, timeoutMs: 30 });
      await counted.set(`${prefix}:first`, "1");
      const first = replicaWait.acknowledged();
      // Nine more writes on the connection the first WAIT blocks: answered once it answers, each
      // then asks. The first of them sends the second WAIT, the other eight share the third.
      const rest = Array.from({ length: 9 }, (_, i) =>
        counted.set(`${prefix}:k${i}`, "1").then(() => replicaWait.acknowledged()),
      );
      expect(await Promise.all([first, ...rest])).toEqual(Array(10).fill(0));
      expect(sent).toHaveLength(3);
      // A commit after every WAIT answered sends one of its own.
      expect(await replicaWait.acknowledged()).toBe(0);
      expect(sent).toHaveLength(4);
    } finally {
      counted.disconnect();
    }
  });
});
