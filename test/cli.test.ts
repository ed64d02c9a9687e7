import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main } from "@hookwire/cli";
import { keyspace } from "@hookwire/queue";
import { SecretBox } from "@hookwire/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk) => out.push(String(chunk)));
  stderr.on("data", (chunk) => err.push(String(chunk)));
  const code = await main(argv, { stdin: new PassThrough(), stdout, stderr });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

// hookwire hooks / deliveries against a running API.
describe("hookwire hooks and deliveries", () => {
  let system: System;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => response.writeHead(400).end());
    system = await startSystem({ label: "cli" });
    process.env.HOOKWIRE_URL = system.baseUrl;
    process.env.HOOKWIRE_API_KEY = system.apiKey;
  });
  afterAll(async () => {
    await system?.close();
    await receiver?.close();
  });

  test("--help lists every command", async () => {
    const { code, stdout } = await run("--help");
    expect(code).toBe(0);
    for (const command of [
      "start",
      "policy",
      "validate",
      "preview",
      "hooks",
      "deliveries",
      "secrets",
      "bench",
    ]) {
      expect(stdout).toContain(command);
    }
  });

  test("bench passes its options to the harness", async () => {
    const { code, stdout } = await run("bench", "--help");
    expect(code).toBe(0);
    expect(stdout).toContain("--quick");
  });

  test("creates a hook from a YAML file, lists it, and follows its failed delivery", async () => {
    const file = join(tmpdir(), `hook-${process.pid}.yaml`);
    writeFileSync(
      file,
      `integration: generic-webhook\nname: from the cli\nformVariables:\n  url: ${receiver.url}\n`,
    );
    const created = await run("hooks", "create", file);
    expect(created.code).toBe(0);
    const id = JSON.parse(created.stdout).id;
    expect((await run("hooks", "list")).stdout).toMatch(
      new RegExp(`${id}\\ton \\tgeneric-webhook\\tfrom the cli`),
    );

    await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "cli-entry" }));
    await receiver.waitFor((requests) => requests.length === 1);
    await eventually(
      async () => (await system.api("GET", `/v1/deliveries/${id}.cli-entry`)).json?.status === "failed",
    );
    const listed = (await run("deliveries", "list", "--hook", id, "--status", "failed")).stdout;
    expect(listed).toContain(`${id}.cli-entry`);
    expect(listed).toContain("attempts=1 400");
    const shown = JSON.parse((await run("deliveries", "get", `${id}.cli-entry`)).stdout);
    expect(shown.attempts[0].statusCode).toBe(400);
  });

  test("says what is wrong, with the API's pointers, and exits 1", async () => {
    const file = join(tmpdir(), `bad-hook-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ integration: "generic-webhook", name: "no url" }));
    const { code, stderr } = await run("hooks", "create", file);
    expect(code).toBe(1);
    expect(stderr).toMatch(/400.*\n.*\/formVariables\/url/);
    expect((await run("deliveries", "get", "no-such-delivery")).stderr).toMatch(/404/);
  });
});

// hookwire secrets rotate against the Redis of a system whose key is about to be replaced.
describe("hookwire secrets rotate", () => {
  let system: System;
  const saved = { ...process.env };

  beforeAll(async () => {
    system = await startSystem({ label: "cli-rotate", worker: false });
  });
  afterAll(async () => {
    process.env = saved;
    await system?.close();
  });

  test("seals every hook's secrets again under the first key, and says how many", async () => {
    const created = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "signed",
      formVariables: { url: "http://127.0.0.1:9/x", secret: "rotate-me-secret" },
    });
    expect(created.status).toBe(201);
    const oldKey = system.env.HOOKWIRE_SECRET_KEY!;
    const newKey = "b".repeat(64);
    Object.assign(process.env, {
      REDIS_URL: system.env.REDIS_URL,
      HOOKWIRE_QUEUE_PREFIX: system.config.queuePrefix,
      HOOKWIRE_SECRET_KEY: `${newKey},${oldKey}`,
    });
    const first = await run("secrets", "rotate");
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("sealed 1 secret of 1 hook again under key");
    // Done already: a second run has nothing left to seal.
    expect((await run("secrets", "rotate")).stdout).toContain("sealed 0 secrets of 0 hooks");
    const raw = await system.redis.hget(keyspace(system.config.queuePrefix).hooks, created.json.id);
    expect(raw).not.toContain("rotate-me-secret");
    expect(raw).not.toContain(`v2.${new SecretBox(oldKey).sealingKeyId}.`);
    expect((await run("secrets", "spin")).code).toBe(2);
  });
});
