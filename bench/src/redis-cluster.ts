/**
 * A real Redis Cluster of the caller's own (a test, `npm run bench -- --redis cluster`), on
 * loopback: three masters (`redis-server --cluster-enabled yes`, nothing kept on disk), with
 * `replicas` replicas each (none unless asked), joined by `redis-cli --cluster create ...
 * --cluster-yes`. Every process is this helper's
 * child, stopped by its own handle (never by name). Starting waits on what the processes print
 * and on CLUSTER INFO.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "./service-process";

const HOST = "127.0.0.1";
const run = promisify(execFile);

export interface OwnCluster {
  readonly ports: readonly number[];
  /** The nodes' process ids, in the order of `ports` (for CPU sampling, for a test's SIGSTOP). */
  readonly pids: readonly number[];
  /** What hookwire needs to use it: REDIS_CLUSTER_NODES. */
  readonly env: Record<string, string>;
  /** The same as one REDIS_URL: `redis+cluster://127.0.0.1:<port>,...`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** How long a node may take to see every slot served once the cluster is created. */
const CLUSTER_OK_TIMEOUT_MS = 15_000;

export async function ownCluster(masters = 3, replicas = 0): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-cluster-"));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          HOST,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "2000",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let seen = "";
        child.stdout?.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes("Ready to accept connections")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`redis-server (cluster node) exited with ${code}`)));
      });
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `${HOST}:${port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    // Every node must see every slot served before a client may rely on the slot map.
    for (const port of ports) {
      const node = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await node.connect();
        // No event says so: CLUSTER INFO is asked until it does.
        const deadline = Date.now() + CLUSTER_OK_TIMEOUT_MS;
        while (!String(await node.cluster("INFO")).includes("cluster_state:ok")) {
          if (Date.now() > deadline)
            throw new Error(
              `cluster node ${port} did not report cluster_state:ok within ${CLUSTER_OK_TIMEOUT_MS} ms`,
            );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // A replica is of use once it holds its master's data.
        while ((await node.info("replication")).includes("role:slave")) {
          if ((await node.info("replication")).includes("master_link_status:up")) break;
          if (Date.now() > deadline)
            throw new Error(
              `cluster replica ${port} did not sync with its master within ${CLUSTER_OK_TIMEOUT_MS} ms`,
            );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        node.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = ports.map((port) => `${HOST}:${port}`).join(",");
  return {
    ports,
    pids: children.map((child) => child.pid ?? 0),
    env: { REDIS_CLUSTER_NODES: nodes },
    url: `redis+cluster://${nodes}`,
    stop,
  };
}
