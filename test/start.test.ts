import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { eventually } from "./support/receiver";
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from "./support/redis";

const BIN = fileURLToPath(new URL("../packages/cli/bin/hookwire.mjs", import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

// `npm start` is `hookwire start`: the whole system from one command, stopped by one signal.
describe("hookwire start", () => {
  let child: ChildProcess | undefined;
  const prefix = uniquePrefix("start");
  afterAll(async () => {
    child?.kill("SIGKILL");
    const redis = testRedis();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  test("serves the API with a worker, says where everything is, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const output: string[] = [];
    child = spawn(process.execPath, [BIN, "start"], {
      env: {
        ...process.env,
        REDIS_URL,
        HOOKWIRE_PORT: String(port),
        HOOKWIRE_QUEUE_PREFIX: prefix,
        HOOKWIRE_API_KEY: "start-test-admin-key",
        HOOKWIRE_SECRET_KEY: "d".repeat(64),
        HOOKWIRE_WORKER_METRICS_PORT: "0",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk) => output.push(String(chunk)));
    child.stderr?.on("data", (chunk) => output.push(String(chunk)));

    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      45_000,
      "ingest ready",
    );
    const text = output.join("");
    expect(text).toContain(`API        http://localhost:${port}/v1`);
    expect(text).toContain(`docs       http://localhost:${port}/docs`);
    expect(text).toContain(`dashboard  http://localhost:${port}/`);
    const hooks = await fetch(`http://127.0.0.1:${port}/v1/hooks`, {
      headers: { authorization: "Bearer start-test-admin-key" },
    });
    expect(hooks.status).toBe(200);

    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => "refused")).toBe("refused");
  });
});
