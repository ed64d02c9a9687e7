import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { keyspace } from "@hookwire/queue";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { entryFixture } from "./support/fixtures";
import { eventually } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// Per-hook client certificates against a real TLS receiver that requires one: certificates made
// here with openssl (a CA, the receiver's certificate for 127.0.0.1, a client's), nothing mocked.
const dir = mkdtempSync(join(tmpdir(), "hookwire-mtls-"));
const pem = (name: string) => readFileSync(join(dir, name), "utf8");

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** A key and a certificate for `subject`, signed by the CA; `ext`: the certificate's extensions. */
function issue(name: string, subject: string, ext: string): void {
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-subj",
    subject,
    "-out",
    `${name}.csr`,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  );
}

describe("a hook's client certificate (delivery.tls)", () => {
  let system: System;
  let server: Server;
  let url = "";
  const arrived: { path: string; client: string | undefined }[] = [];

  beforeAll(async () => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-subj",
      "/CN=hookwire test CA",
      "-days",
      "2",
      "-out",
      "ca.crt",
    );
    issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    issue("client", "/CN=hookwire-client", "extendedKeyUsage=clientAuth\n");
    server = createServer(
      {
        key: pem("server.key"),
        cert: pem("server.crt"),
        ca: pem("ca.crt"),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        arrived.push({ path: request.url ?? "", client: peer.subject?.CN?.toString() });
        request.resume();
        request.on("end", () => response.writeHead(200).end("{}"));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    system = await startSystem({ label: "mtls", env: { HOOKWIRE_RETRY_SCHEDULE: "60" } });
  });
  afterAll(async () => {
    await system?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a receiver that requires one accepts the hook with a certificate and refuses the hook without", async () => {
    const withCert = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "with a client certificate",
      formVariables: { url: `${url}/with` },
      delivery: { tls: { cert: pem("client.crt"), key: pem("client.key"), ca: pem("ca.crt") } },
    });
    expect(withCert.status).toBe(201);
    const without = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "trusting the CA, no certificate",
      formVariables: { url: `${url}/without` },
      delivery: { tls: { ca: pem("ca.crt") } },
    });
    expect(without.status).toBe(201);

    expect(
      (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "mtls-1" }))).status,
    ).toBe(202);
    await eventually(() => arrived.length === 1, 10_000, "the delivery with a certificate");
    expect(arrived[0]).toEqual({ path: "/with", client: "hookwire-client" });
    await eventually(
      async () =>
        (await system.api("GET", `/v1/deliveries/${without.json.id}.mtls-1`)).json.attempts?.length === 1,
      10_000,
      "the attempt without a certificate",
    );
    const refused = await system.api("GET", `/v1/deliveries/${without.json.id}.mtls-1`);
    // Refused in the handshake (TLS 1.3 says so just after it, as the connection closes).
    expect(refused.json.attempts[0].errorCode).toMatch(/^DELIVERY_ERR_(TLS|CONNECTION_LOST)$/);
    expect(arrived).toHaveLength(1);

    // The key is sealed at rest and never shown; sent back as ********, it is kept.
    const shown = await system.api("GET", `/v1/hooks/${withCert.json.id}`);
    expect(shown.json.delivery.tls).toEqual({ cert: pem("client.crt"), key: "********", ca: pem("ca.crt") });
    const raw = JSON.stringify(await system.redis.hgetall(keyspace(system.config.queuePrefix).hooks));
    expect(raw).not.toContain("PRIVATE KEY");
    expect(raw).not.toContain("BEGIN CERTIFICATE");
    const patched = await system.api("PATCH", `/v1/hooks/${withCert.json.id}`, {
      delivery: { tls: shown.json.delivery.tls, timeoutMs: 5_000 },
    });
    expect(patched.status).toBe(200);
    expect(
      (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: "mtls-2" }))).status,
    ).toBe(202);
    await eventually(() => arrived.length === 2, 10_000, "the delivery after the change");
    expect(arrived[1]).toEqual({ path: "/with", client: "hookwire-client" });
  });

  test("a certificate or key that does not parse, or a key of another certificate, is refused where it is", async () => {
    const post = (tls: Record<string, string>) =>
      system.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "bad tls",
        formVariables: { url: `${url}/bad` },
        delivery: { tls },
      });
    const garbled = await post({ cert: "not a certificate", key: pem("client.key") });
    expect(garbled.status).toBe(400);
    expect(garbled.json.error.problems.map((p: { pointer: string }) => p.pointer)).toContain(
      "/delivery/tls/cert",
    );
    const mismatched = await post({ cert: pem("client.crt"), key: pem("server.key") });
    expect(mismatched.json.error.problems).toEqual([
      { pointer: "/delivery/tls/key", message: "is not the private key of this certificate" },
    ]);
    const alone = await post({ cert: pem("client.crt") });
    expect(alone.json.error.problems[0].pointer).toBe("/delivery/tls/key");
    expect(JSON.stringify(mismatched.json)).not.toContain("PRIVATE KEY");
  });
});
