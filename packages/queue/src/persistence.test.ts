import { describe, expect, test } from "vitest";
import { QueueError } from "./errors";
import { assessPersistence, persistenceWarning, requireDurable } from "./persistence";

describe("assessPersistence", () => {
  test("the append-only file on is durable whatever appendfsync says; the loss window follows it", () => {
    for (const appendfsync of ["always", "everysec", "no"]) {
      const verdict = assessPersistence({ appendonly: "yes", appendfsync, save: "" });
      expect(verdict.durable, appendfsync).toBe(true);
      expect(persistenceWarning(verdict), appendfsync).toBeUndefined();
    }
    expect(assessPersistence({ appendonly: "yes", appendfsync: "always", save: "" }).lossWindow).toMatch(
      /^nothing:/,
    );
    expect(assessPersistence({ appendonly: "yes", appendfsync: "everysec", save: "" }).lossWindow).toMatch(
      /second/,
    );
    expect(assessPersistence({ appendonly: "yes", appendfsync: "no", save: "" }).lossWindow).toMatch(/30 s/);
  });

  test("the append-only file off is not durable: everything without snapshots, since the last one with them", () => {
    const bare = assessPersistence({ appendonly: "no", appendfsync: "everysec", save: "" });
    expect(bare.durable).toBe(false);
    expect(bare.lossWindow).toMatch(/^everything: Redis keeps nothing on disk/);
    const rdb = assessPersistence({ appendonly: "no", appendfsync: "everysec", save: "3600 1 300 100" });
    expect(rdb.durable).toBe(false);
    expect(rdb.lossWindow).toContain("since the last RDB snapshot (save 3600 1 300 100)");
    expect(persistenceWarning(rdb)).toContain("CONFIG SET appendonly yes");
  });

  test("a Redis that refuses CONFIG is unknown: a warning, but HOOKWIRE_REQUIRE_DURABLE_REDIS lets it pass", () => {
    const unknown = assessPersistence({ appendonly: "unknown", appendfsync: "unknown", save: "unknown" });
    expect(unknown.durable).toBeNull();
    expect(persistenceWarning(unknown)).toContain("cannot tell");
    expect(() => requireDurable(unknown, "redis://managed:6379")).not.toThrow();
  });

  test("HOOKWIRE_REQUIRE_DURABLE_REDIS refuses the append-only file off, naming the setting and the fix", () => {
    const bare = assessPersistence({ appendonly: "no", appendfsync: "everysec", save: "" });
    let refused: unknown;
    try {
      requireDurable(bare, "redis://127.0.0.1:6379");
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(QueueError);
    expect((refused as QueueError).code).toBe("QUEUE_ERR_NOT_DURABLE");
    expect((refused as QueueError).message).toMatch(
      /^HOOKWIRE_REQUIRE_DURABLE_REDIS=true, but the Redis at redis:\/\/127\.0\.0\.1:6379 has its append-only file off/,
    );
    expect((refused as QueueError).message).toContain("CONFIG SET appendonly yes");
  });
});
