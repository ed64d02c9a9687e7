import { describe, expect, test } from "vitest";
import { loadConfig } from "./config";
import { ConfigError } from "./errors";

describe("loadConfig", () => {
  test("applies the defaults and freezes the result", () => {
    const config = loadConfig({});
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(config.queuePrefix).toBe("hookwire");
    expect(config.ingest.port).toBe(8080);
    expect(config.worker.retryScheduleSeconds).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("reports every bad variable at once, by name and value", () => {
    let error: unknown;
    try {
      loadConfig({
        HOOKWIRE_PORT: "eighty",
        HOOKWIRE_ALLOW_PRIVATE_NETWORKS: "yes",
        HOOKWIRE_QUEUE_PREFIX: "a b",
        HOOKWIRE_RETRY_SCHEDULE: "5,x",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/HOOKWIRE_PORT="eighty"/);
    expect(problems.join("\n")).toMatch(/HOOKWIRE_ALLOW_PRIVATE_NETWORKS="yes"/);
    expect(problems.join("\n")).toMatch(/HOOKWIRE_QUEUE_PREFIX/);
    expect(problems.join("\n")).toMatch(/HOOKWIRE_RETRY_SCHEDULE/);
  });

  test("parses API keys with scopes; admin implies every scope; a bad key never echoes its token", () => {
    const config = loadConfig({
      HOOKWIRE_API_KEY: "single-admin-key-000",
      HOOKWIRE_API_KEYS: "ingest-only-key-0001=ingest,reader-and-ingest-01=read+ingest",
    });
    const [admin, ingest, both] = config.ingest.apiKeys;
    expect([...(admin?.scopes ?? [])].sort()).toEqual(["admin", "ingest", "read"]);
    expect([...(ingest?.scopes ?? [])]).toEqual(["ingest"]);
    expect([...(both?.scopes ?? [])].sort()).toEqual(["ingest", "read"]);

    expect(() => loadConfig({ HOOKWIRE_API_KEYS: "short-secret-token=writer" })).toThrowError(
      /HOOKWIRE_API_KEYS\[0\]/,
    );
    try {
      loadConfig({ HOOKWIRE_API_KEYS: "short-secret-token=writer" });
    } catch (error) {
      expect((error as Error).message).not.toContain("short-secret-token");
    }
  });

  test("reads the retry schedule as seconds", () => {
    expect(loadConfig({ HOOKWIRE_RETRY_SCHEDULE: "1, 2.5,30" }).worker.retryScheduleSeconds).toEqual([
      1, 2.5, 30,
    ]);
  });
});
