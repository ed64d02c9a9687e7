import { describe, expect, test } from "vitest";
import { loadConfig } from "./config";
import { ConfigError } from "./errors";

describe("loadConfig", () => {
  test("applies the defaults and freezes the result", () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379", sentinels: undefined });
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
      HOOKWIRE_API_KEY: "single-admin-key-000-padded",
      HOOKWIRE_API_KEYS: "ingest-only-key-0001-padded=ingest,reader-and-ingest-01-padded=read+ingest",
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

  test("refuses an API key shorter than 24 characters, saying how long it is, never what it is", () => {
    let error: unknown;
    try {
      loadConfig({ HOOKWIRE_API_KEY: "x", HOOKWIRE_API_KEYS: "twenty-three-characters=read" });
    } catch (caught) {
      error = caught;
    }
    const problems = (error as ConfigError).problems;
    expect(problems[0]).toMatch(/^HOOKWIRE_API_KEY: at least 24 characters.*\(this one has 1\)/);
    expect(problems[1]).toMatch(/^HOOKWIRE_API_KEYS\[0\]: .*at least 24 characters/);
    expect(problems.join("\n")).not.toContain("twenty-three-characters");
    expect(loadConfig({ HOOKWIRE_API_KEY: "a".repeat(24) }).ingest.apiKeys).toHaveLength(1);
  });

  test("reads the retry schedule as seconds", () => {
    expect(loadConfig({ HOOKWIRE_RETRY_SCHEDULE: "1, 2.5,30" }).worker.retryScheduleSeconds).toEqual([
      1, 2.5, 30,
    ]);
  });

  test("reads a Sentinel group: host:port list (26379 by default, [v6]:port), the master's name, its password", () => {
    const config = loadConfig({
      REDIS_URL: "redis://:master-secret@ignored:6379/2",
      REDIS_SENTINELS: "10.0.0.5:26380, sentinel-b ,[::1]:26381",
      REDIS_SENTINEL_PASSWORD: "sentinel-secret",
    });
    expect(config.redis).toEqual({
      url: "redis://:master-secret@ignored:6379/2",
      sentinels: {
        name: "mymaster",
        nodes: [
          { host: "10.0.0.5", port: 26380 },
          { host: "sentinel-b", port: 26379 },
          { host: "::1", port: 26381 },
        ],
        password: "sentinel-secret",
      },
    });
    expect(loadConfig({ REDIS_SENTINELS: "a:1", REDIS_SENTINEL_NAME: "queues" }).redis.sentinels?.name).toBe(
      "queues",
    );
  });

  test("reads a Redis Cluster from REDIS_CLUSTER_NODES (6379 by default) and puts the prefix under a hash tag, with 4 partitions", () => {
    const config = loadConfig({
      REDIS_URL: "redis://:node-secret@ignored:1",
      REDIS_CLUSTER_NODES: "10.0.0.5:7000, redis-b ,[::1]:7002",
    });
    expect(config.redis).toEqual({
      url: "redis://:node-secret@ignored:1",
      cluster: {
        nodes: [
          { host: "10.0.0.5", port: 7000 },
          { host: "redis-b", port: 6379 },
          { host: "::1", port: 7002 },
        ],
      },
    });
    expect(config.queuePrefix).toBe("{hookwire}");
    const tagged = { REDIS_CLUSTER_NODES: "a:1", HOOKWIRE_QUEUE_PREFIX: "team-{hw}" };
    expect(loadConfig(tagged).queuePrefix).toBe("team-{hw}");
    expect(loadConfig({ REDIS_CLUSTER_NODES: "a:1", HOOKWIRE_QUEUE_PREFIX: "team" }).queuePrefix).toBe(
      "{team}",
    );
    expect(config.queuePartitions).toBe(4);
    // A single Redis keeps the prefix as it is, in one partition.
    expect(loadConfig({}).queuePrefix).toBe("hookwire");
    expect(loadConfig({}).queuePartitions).toBe(1);
  });

  test("HOOKWIRE_WORKER_PARTITIONS takes numbers and ranges below HOOKWIRE_QUEUE_PARTITIONS", () => {
    const many = { HOOKWIRE_QUEUE_PARTITIONS: "8" };
    expect(loadConfig(many).worker.partitions).toBeUndefined();
    expect(loadConfig({ ...many, HOOKWIRE_WORKER_PARTITIONS: "5, 0-2,1" }).worker.partitions).toEqual([
      0, 1, 2, 5,
    ]);
    expect(() => loadConfig({ ...many, HOOKWIRE_WORKER_PARTITIONS: "6-8" })).toThrow(
      /HOOKWIRE_WORKER_PARTITIONS="6-8": expected partition numbers or ranges from 0 to 7 \(HOOKWIRE_QUEUE_PARTITIONS=8\)/,
    );
    expect(() => loadConfig({ HOOKWIRE_WORKER_PARTITIONS: "x" })).toThrow(/"x" is not one/);
    expect(() => loadConfig({ HOOKWIRE_QUEUE_PARTITIONS: "65" })).toThrow(/HOOKWIRE_QUEUE_PARTITIONS/);
  });

  test("reads a Redis Cluster from a redis+cluster:// URL, credentials and TLS included", () => {
    const config = loadConfig({ REDIS_URL: "rediss+cluster://app:pa%40ss@node-a:7000,node-b:7001" });
    expect(config.redis).toEqual({
      url: "rediss://app:pa%40ss@localhost",
      cluster: {
        nodes: [
          { host: "node-a", port: 7000 },
          { host: "node-b", port: 7001 },
        ],
      },
    });
  });

  test("reports a bad cluster node, a cluster beside sentinels and a database other than 0", () => {
    let error: unknown;
    try {
      loadConfig({
        REDIS_URL: "redis+cluster://:cluster-secret@good:7000,bad:port/3",
        REDIS_SENTINELS: "s:26379",
        HOOKWIRE_REDIS_WAIT_REPLICAS: "1",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain('REDIS_URL[1]="bad:port"');
    expect(problems).toContain("REDIS_SENTINELS and a cluster");
    expect(problems).toContain("only database 0, not 3");
    expect((error as ConfigError).problems).toHaveLength(3);
    expect(problems).not.toContain("cluster-secret");
    expect(() => loadConfig({ REDIS_URL: "redis+cluster://" })).toThrowError(/names no node/);
    expect(() => loadConfig({ REDIS_URL: "redis+cluster://a:1", REDIS_CLUSTER_NODES: "b:2" })).toThrowError(
      /both set/,
    );
  });

  test("reports bad sentinels, a name without sentinels and a bad replica count, each by name and value", () => {
    let error: unknown;
    try {
      loadConfig({
        REDIS_SENTINELS: "good:26379,bad:port,:26379,toolong:70000",
        REDIS_SENTINEL_NAME: "my master",
        HOOKWIRE_REDIS_WAIT_REPLICAS: "-1",
        HOOKWIRE_REDIS_WAIT_TIMEOUT_MS: "0",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain('REDIS_SENTINELS[1]="bad:port"');
    expect(problems).toContain('REDIS_SENTINELS[2]=":26379"');
    expect(problems).toContain('REDIS_SENTINELS[3]="toolong:70000"');
    expect(problems).not.toContain("REDIS_SENTINELS[0]");
    expect(problems).toContain('REDIS_SENTINEL_NAME="my master"');
    expect(problems).toContain('HOOKWIRE_REDIS_WAIT_REPLICAS="-1"');
    expect(problems).toContain('HOOKWIRE_REDIS_WAIT_TIMEOUT_MS="0"');
    expect((error as ConfigError).problems).toHaveLength(6);

    expect(() => loadConfig({ REDIS_SENTINEL_NAME: "mymaster" })).toThrowError(
      /REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not/,
    );
    // The sentinels' password is never echoed in a problem.
    try {
      loadConfig({ REDIS_SENTINEL_PASSWORD: "hush-hush" });
    } catch (caught) {
      expect((caught as Error).message).not.toContain("hush-hush");
    }
  });

  test("waits for no replica unless told; HOOKWIRE_REDIS_WAIT_REPLICAS with its timeout", () => {
    expect(loadConfig({}).ingest).toMatchObject({ waitReplicas: 0, waitReplicasTimeoutMs: 1_000 });
    expect(
      loadConfig({ HOOKWIRE_REDIS_WAIT_REPLICAS: "2", HOOKWIRE_REDIS_WAIT_TIMEOUT_MS: "250" }).ingest,
    ).toMatchObject({ waitReplicas: 2, waitReplicasTimeoutMs: 250 });
  });

  test("HOOKWIRE_EGRESS_PROXY is an http:// URL; a bad one is named, its value never quoted", () => {
    expect(loadConfig({ HOOKWIRE_EGRESS_PROXY: "http://u:p@10.0.0.9:3128" }).worker.egressProxy).toBe(
      "http://u:p@10.0.0.9:3128",
    );
    expect(loadConfig({}).worker.egressProxy).toBeUndefined();
    let error: unknown;
    try {
      loadConfig({ HOOKWIRE_EGRESS_PROXY: "socks5://u:secret-pass@proxy:1080" });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems.join("\n")).toContain(
      "HOOKWIRE_EGRESS_PROXY: expected the http:// URL",
    );
    expect((error as ConfigError).problems.join("\n")).not.toContain("secret-pass");
  });
});
