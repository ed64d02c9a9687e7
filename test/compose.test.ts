import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";

const COMPOSE_FILE = fileURLToPath(new URL("../docker-compose.yml", import.meta.url));
const PROMETHEUS_FILE = fileURLToPath(new URL("../deploy/prometheus.yml", import.meta.url));
const hasDockerCompose = spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0;

// No Docker engine runs where the tests run, so the compose file is checked as a file: its
// structure here, and `docker-compose config -q` where Debian's docker-compose is installed.
describe("docker-compose.yml", () => {
  const compose = parse(readFileSync(COMPOSE_FILE, "utf8"), { merge: true });

  test("runs Redis with AOF on, ingest, the worker and a demo receiver", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["redis", "ingest", "worker", "demo-receiver"]),
    );
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.redis.command.join(" ")).toContain("--appendonly yes");
    expect(compose.services.ingest.command.join(" ")).toContain("services/ingest/src/main.ts");
    expect(compose.services.worker.command.join(" ")).toContain("services/worker/src/main.ts");
    expect(compose.services.ingest.environment.REDIS_URL).toBe("redis://redis:6379");
  });

  test("scales the worker (`--scale worker=4`): no fixed name or host port, and Prometheus scrapes every replica", () => {
    const worker = compose.services.worker;
    expect(worker.container_name).toBeUndefined();
    // A host port can be bound by one replica only; the metrics port stays on the compose network.
    expect(worker.ports).toBeUndefined();
    expect(worker.expose).toContain("9464");
    const prometheus = parse(readFileSync(PROMETHEUS_FILE, "utf8"));
    const job = prometheus.scrape_configs.find((c: { job_name: string }) => c.job_name === "hookwire-worker");
    // Compose's DNS answers the service name with every replica's address.
    expect(job.dns_sd_configs).toEqual([{ names: ["worker"], type: "A", port: 9464 }]);
    expect(job.static_configs).toBeUndefined();
  });

  test.runIf(hasDockerCompose)("passes docker-compose config", () => {
    const result = spawnSync("docker-compose", ["-f", COMPOSE_FILE, "config", "-q"], {
      env: { ...process.env, HOOKWIRE_API_KEY: "compose-check-key", HOOKWIRE_SECRET_KEY: "c".repeat(64) },
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test("docker-compose is available to check the file", () => {
    if (!hasDockerCompose)
      console.warn("docker-compose is not installed: `docker-compose config -q` did not run");
    expect(typeof hasDockerCompose).toBe("boolean");
  });
});
