import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// HOOKWIRE_EGRESS_PROXY against a real CONNECT proxy, a process of its own on loopback that
// opens its tunnels from 127.0.0.2: a receiver that sees 127.0.0.2 got the delivery through it.
const PROXY = fileURLToPath(new URL("./support/connect-proxy.mjs", import.meta.url));

/** Starts the proxy (on `port`, 0 for any) and answers it with the port it listens on. */
async function startProxy(port: number): Promise<{ child: ChildProcess; port: number; tunnels: string[] }> {
  const child = spawn(process.execPath, [PROXY, String(port), "127.0.0.2"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const tunnels: string[] = [];
  const listening = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the proxy exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.startsWith("listening ")) resolve(Number(line.slice(10)));
        if (line.startsWith("tunnel ")) tunnels.push(line.slice(7));
      }
    });
  });
  return { child, port: listening, tunnels };
}

async function stopProxy(proxy: { child: ChildProcess }): Promise<void> {
  if (proxy.child.exitCode !== null) return;
  const exited = new Promise((resolve) => proxy.child.once("exit", resolve));
  proxy.child.kill("SIGTERM");
  await exited;
}

describe("HOOKWIRE_EGRESS_PROXY", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let system: System;
  let receiver: Server;
  let receiverUrl = "";
  const peers: string[] = [];

  beforeAll(async () => {
    proxy = await startProxy(0);
    receiver = createServer((request, response) => {
      peers.push(request.socket.remoteAddress ?? "");
      request.resume();
      request.on("end", () => response.writeHead(200).end("{}"));
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    system = await startSystem({
      label: "egress",
      env: { HOOKWIRE_EGRESS_PROXY: `http://127.0.0.1:${proxy.port}` },
    });
  });
  afterAll(async () => {
    await system?.close();
    if (proxy) await stopProxy(proxy);
    await new Promise((resolve) => receiver?.close(resolve));
  });

  test("a delivery reaches the receiver through the proxy, with the proxy's address as its peer", async () => {
    const hook = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "behind the proxy",
      formVariables: { url: `${receiverUrl}/through` },
    });
    expect(hook.status).toBe(201);
    expect(
      (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "egress-1" }))).status,
    ).toBe(202);
    await eventually(() => peers.length === 1, 10_000, "the delivery");
    expect(peers[0]).toBe("127.0.0.2");
    // The tunnel asked for the address the guard vetted, not a name the proxy would resolve.
    expect(proxy.tunnels).toEqual([new URL(receiverUrl).host]);
  });

  test("while the proxy is down, deliveries wait without an attempt charged to the hook, and go once it is back", async () => {
    const hook = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "waiting for the proxy",
      formVariables: { url: `${receiverUrl}/waiting` },
    });
    const port = proxy.port;
    await stopProxy(proxy);
    const before = peers.length;
    expect(
      (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "egress-2" }))).status,
    ).toBe(202);
    await eventually(
      () =>
        system.logLines.some(
          (line) => line.includes("the egress proxy failed") && line.includes(hook.json.id),
        ),
      10_000,
      "a try through the stopped proxy",
    );
    const waiting = await system.api("GET", `/v1/deliveries/${hook.json.id}.egress-2`);
    expect(waiting.json).toMatchObject({ status: "pending", attempts: [] });
    const health = (await system.api("GET", `/v1/hooks/${hook.json.id}`)).json.health;
    expect(health).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
    expect(health.lastFailureAt).toBeUndefined();

    proxy = await startProxy(port);
    await eventually(() => peers.length > before + 1, 15_000, "the deliveries once the proxy is back");
    expect(peers.slice(before).every((peer) => peer === "127.0.0.2")).toBe(true);
  });
});
