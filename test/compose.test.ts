import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { ENTRIES, HEAP_ARGS, serviceArgs } from "../packages/cli/build.mjs";

const COMPOSE_FILE = fileURLToPath(new URL("../docker-compose.yml", import.meta.url));
const PROMETHEUS_FILE = fileURLToPath(new URL("../deploy/prometheus.yml", import.meta.url));
const SENTINEL_FILE = fileURLToPath(new URL("../deploy/compose.sentinel.yml", import.meta.url));
const DOCKERFILE = fileURLToPath(new URL("../Dockerfile", import.meta.url));
const hasDockerCompose = spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0;

describe("Dockerfile", () => {
  const text = readFileSync(DOCKERFILE, "utf8");
  const runStage = text.slice(text.lastIndexOf("\nFROM "));

  test("the image runs the compiled services with no TypeScript toolchain in it", () => {
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    // Every output of the build is copied from the build stage into the one that runs.
    for (const { outdir } of ENTRIES)
      expect(runStage).toContain(`COPY --from=build /app/${outdir} ./${outdir}`);
    expect(runStage).toContain("rm -rf node_modules/tsx node_modules/esbuild");
    expect(runStage).not.toContain("--import");
    expect(runStage).toContain('CMD ["node", "services/ingest/dist/main.mjs"]');
  });

  test("the image caps the services' heap as hookwire start does, in NODE_OPTIONS that a deployment can change", () => {
    expect(runStage).toContain(`ENV NODE_OPTIONS=${HEAP_ARGS.join(" ")}`);
    expect(serviceArgs("worker", undefined, {}).slice(0, HEAP_ARGS.length)).toEqual([...HEAP_ARGS]);
    const own = serviceArgs("worker", undefined, { NODE_OPTIONS: "--max-old-space-size=300" });
    expect(own.some((arg) => arg.startsWith("--max-old-space-size"))).toBe(false);
  });
});

// No Docker engine runs where the tests run, so the compose file is checked as a file: its
// structure here, and `docker-compose config -q` where Debian's docker-compose is installed.
describe("docker-compose.yml", () => {
  const compose = parse(readFileSync(COMPOSE_FILE, "utf8"), { merge: true });

  test("runs Redis with AOF on, ingest and the worker compiled on plain node, and a demo receiver", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["redis", "ingest", "worker", "demo-receiver"]),
    );
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.redis.command.join(" ")).toContain("--appendonly yes");
    // The services run compiled, on plain node (the image has no TypeScript loader).
    expect(compose.services.ingest.command).toEqual(["node", "services/ingest/dist/main.mjs"]);
    expect(compose.services.worker.command).toEqual(["node", "services/worker/dist/main.mjs"]);
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

  test("the Sentinel override adds a replica and three sentinels, and points ingest and every worker at them", () => {
    const sentinel = parse(readFileSync(SENTINEL_FILE, "utf8"), { merge: true });
    const names = ["sentinel-1", "sentinel-2", "sentinel-3"];
    expect(Object.keys(sentinel.services)).toEqual(expect.arrayContaining(["redis-replica", ...names]));
    expect(sentinel.services["redis-replica"].command.join(" ")).toContain("--replicaof redis 6379");
    for (const name of names) {
      const script = sentinel.services[name].entrypoint.join(" ");
      expect(script).toContain("sentinel monitor hookwire redis 6379 2");
      expect(script).toContain("--sentinel");
      expect(sentinel.services[name].environment.HOSTNAME_ANNOUNCED).toBe(name);
    }
    for (const service of ["ingest", "worker"]) {
      const env = sentinel.services[service].environment;
      expect(env.REDIS_SENTINELS.split(",")).toEqual(names.map((name) => `${name}:26379`));
      expect(env.REDIS_SENTINEL_NAME).toBe("hookwire");
    }
    // The override keeps the base file's services as they are otherwise (no name, no host port).
    expect(sentinel.services.worker.container_name).toBeUndefined();
    expect(sentinel.services.worker.ports).toBeUndefined();
  });

  test.runIf(hasDockerCompose)("passes docker-compose config with the Sentinel override", () => {
    const result = spawnSync("docker-compose", ["-f", COMPOSE_FILE, "-f", SENTINEL_FILE, "config", "-q"], {
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
