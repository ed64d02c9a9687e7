import type { LookupAddress } from "node:dns";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { OutboundRequest } from "./attempt";
import { classifyAttempt } from "./outcome";
import { createSender, type Sender } from "./sender";
import type { Resolver, SenderConfig } from "./sender-config";
import { startReceiver, type TestReceiver } from "./test-receiver";

// The SSRF guard end to end: a real receiver listens on 127.0.0.1, and a sender with the default
// guard must never reach it, whatever form the address takes.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let rx: TestReceiver;
beforeEach(async () => {
  rx = await startReceiver((_req, res) => res.end("reached"));
  cleanups.push(() => rx.close());
});

function sender(overrides: Partial<SenderConfig> = {}): Sender {
  const created = createSender({
    userAgent: "hookwire/0.0.0-test",
    allowPrivateNetworks: false,
    allowedNetworks: [],
    ...overrides,
  });
  cleanups.push(() => created.destroy());
  return created;
}

function request(url: string): OutboundRequest {
  return {
    url,
    method: "POST",
    headers: [],
    body: "{}",
    hookId: "h1",
    connections: 10,
    deliveryId: "d1",
    attempt: 1,
    captureErrorBody: true,
  };
}

/** A resolver answering fixed addresses for any name, counting its calls. */
function fixedResolver(...addresses: string[]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (hostname: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) => {
    calls.push(hostname);
    const answer = addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    setImmediate(callback, null, answer);
  };
  return Object.assign(resolver, { calls });
}

describe("the default guard refuses", () => {
  test.each([
    ["loopback IPv4 literal", (port: number) => `http://127.0.0.1:${port}/`, "loopback"],
    ["loopback, another address of 127/8", (port: number) => `http://127.0.0.2:${port}/`, "loopback"],
    ["decimal integer host (WHATWG: 127.0.0.1)", (port: number) => `http://2130706433:${port}/`, "loopback"],
    ["hex shorthand host (WHATWG: 127.0.0.1)", (port: number) => `http://0x7f.1:${port}/`, "loopback"],
    ["IPv6 loopback", (port: number) => `http://[::1]:${port}/`, "loopback"],
    [
      "IPv4-mapped IPv6",
      (port: number) => `http://[::ffff:127.0.0.1]:${port}/`,
      "IPv4-mapped form of 127.0.0.1",
    ],
    ["NAT64 form", (port: number) => `http://[64:ff9b::7f00:1]:${port}/`, "NAT64 form of 127.0.0.1"],
    ["unspecified address", (port: number) => `http://0.0.0.0:${port}/`, "unspecified"],
    [
      "localhost (resolves to loopback)",
      (port: number) => `http://localhost:${port}/`,
      "localhost resolved to a refused address: ",
    ],
    ["cloud metadata", () => "http://169.254.169.254/latest/meta-data/", "metadata"],
    ["private network", () => "http://10.1.2.3/", "private"],
    ["link-local IPv6", () => "http://[fe80::1]/", "link-local"],
  ])("%s", async (_name, url, reason) => {
    const result = await sender().send(request(url(rx.port)));
    expect(result.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    expect(result.errorMessage).toContain(reason);
    expect(result.errorMessage).toContain("HOOKWIRE_ALLOW_PRIVATE_NETWORKS");
    expect(rx.requests).toHaveLength(0);
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: [5] })).toEqual({
      verb: "give_up",
      reason: "DELIVERY_ERR_SSRF_BLOCKED",
      disableHook: false,
    });
  });

  test("a host name resolving to 127.0.0.1", async () => {
    const resolver = fixedResolver("127.0.0.1");
    const result = await sender({ lookup: resolver }).send(request(`http://hooks.example.test:${rx.port}/`));
    expect(result.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    expect(result.errorMessage).toContain(
      "hooks.example.test resolved to a refused address: 127.0.0.1 is loopback",
    );
    expect(resolver.calls).toEqual(["hooks.example.test"]);
    expect(rx.requests).toHaveLength(0);
  });

  test("a host name with one public and one private address: any refused address refuses all", async () => {
    const resolver = fixedResolver("93.184.215.14", "127.0.0.1");
    const result = await sender({ lookup: resolver }).send(request(`http://mixed.example.test:${rx.port}/`));
    expect(result.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    expect(rx.requests).toHaveLength(0);
  });

  test("a name that does not resolve is a DNS error, retried", async () => {
    const resolver: Resolver = (_hostname, _options, callback) =>
      setImmediate(callback, Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), []);
    const result = await sender({ lookup: resolver }).send(
      request("http://nowhere.example.test/x?token=t0k"),
    );
    expect(result.errorCode).toBe("DELIVERY_ERR_DNS");
    expect(result.errorMessage).toBe("nowhere.example.test did not resolve (ENOTFOUND)");
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: [5] }).verb).toBe("retry");
  });

  test("the query string and userinfo of a refused URL stay out of the message", async () => {
    const result = await sender().send(
      request(`http://admin:pw-secret@127.0.0.1:${rx.port}/p?token=q-secret`),
    );
    expect(result.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    expect(result.errorMessage).not.toMatch(/pw-secret|q-secret|admin/);
  });
});

describe("allowances open the guard", () => {
  test("allowedNetworks opens a CIDR, literal and resolved alike; Host stays the name", async () => {
    const resolver = fixedResolver("127.0.0.1");
    const send = sender({ allowedNetworks: ["127.0.0.0/8"], lookup: resolver });
    expect((await send.send(request(`${rx.origin}/literal`))).status).toBe(200);
    expect((await send.send(request(`http://hooks.example.test:${rx.port}/named`))).status).toBe(200);
    expect(rx.requests.map((r) => [r.url, r.headers.host])).toEqual([
      ["/literal", `127.0.0.1:${rx.port}`],
      ["/named", `hooks.example.test:${rx.port}`],
    ]);
  });

  test("the vetted address is the one connected to: one lookup per connection, none per request", async () => {
    const resolver = fixedResolver("127.0.0.1");
    const send = sender({ allowedNetworks: ["127.0.0.1/32"], lookup: resolver });
    for (let i = 0; i < 3; i++) {
      expect((await send.send(request(`http://hooks.example.test:${rx.port}/`))).status).toBe(200);
    }
    expect(resolver.calls.length).toBe(rx.connections());
    expect(rx.requests).toHaveLength(3);
  });

  test("allowedNetworks covers the IPv4-mapped form of an allowed address", async () => {
    const send = sender({ allowedNetworks: ["127.0.0.1/32"] });
    const mapped = await send.send(request(`http://[::ffff:127.0.0.1]:${rx.port}/`));
    expect(mapped.errorCode).not.toBe("DELIVERY_ERR_SSRF_BLOCKED");
    const other = await send.send(request(`http://127.0.0.2:${rx.port}/`));
    expect(other.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
  });

  test("allowPrivateNetworks opens everything, localhost included", async () => {
    const result = await sender({ allowPrivateNetworks: true }).send(request(`http://localhost:${rx.port}/`));
    expect(result.status).toBe(200);
    expect(rx.requests).toHaveLength(1);
  });
});

describe("the guard behind an egress proxy", () => {
  /** A proxy (a real socket on loopback) that counts its connections and answers every CONNECT `answer`. */
  async function countingProxy(
    answer = "HTTP/1.1 200 Connection Established",
  ): Promise<{ url: string; connections: () => number }> {
    const { createServer } = await import("node:net");
    let count = 0;
    const server = createServer((socket) => {
      count++;
      socket.once("data", () => socket.end(`${answer}\r\n\r\n`));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return { url: `http://127.0.0.1:${port}`, connections: () => count };
  }

  test("a refused target is refused before the proxy is asked for a tunnel, a name by what it resolves to", async () => {
    const proxy = await countingProxy();
    const through = sender({ egressProxy: proxy.url, lookup: fixedResolver("10.1.2.3") });
    const literal = await through.send(request(`http://127.0.0.1:${rx.port}/`));
    expect(literal.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    const named = await through.send(request("http://internal.example/"));
    expect(named.errorCode).toBe("DELIVERY_ERR_SSRF_BLOCKED");
    expect(proxy.connections()).toBe(0);
    expect(rx.requests).toHaveLength(0);
  });

  test("a proxy that refuses the tunnel fails the attempt as the proxy's, and its password is never said", async () => {
    const proxy = await countingProxy("HTTP/1.1 407 Proxy Authentication Required");
    const withPassword = proxy.url.replace("http://", "http://hookwire:proxy-pass-123@");
    const through = sender({ egressProxy: withPassword, allowedNetworks: ["127.0.0.0/8"] });
    const result = await through.send(request(`http://127.0.0.1:${rx.port}/`));
    expect(result.errorCode).toBe("DELIVERY_ERR_PROXY");
    expect(result.errorMessage).toContain("HTTP 407");
    expect(result.errorMessage).not.toContain("proxy-pass-123");
    expect(proxy.connections()).toBe(1);
    expect(rx.requests).toHaveLength(0);
  });
});
