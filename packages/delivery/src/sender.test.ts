import { createHmac } from "node:crypto";
import { afterEach, describe, expect, test } from "vitest";
import type { OutboundRequest } from "./attempt";
import { classifyAttempt } from "./outcome";
import { createSender, type Sender } from "./sender";
import type { SenderConfig } from "./sender-config";
import { hmacSha256Hex, standardWebhookHeaders } from "./signature";
import { closedPort, startReceiver, type TestReceiver } from "./test-receiver";

const schedule = [5, 60, 300];
const fixedRandom = () => 0;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

// Receivers listen on 127.0.0.1, so these senders open loopback; the guard's refusals are in
// connector.test.ts.
function sender(overrides: Partial<SenderConfig> = {}): Sender {
  const created = createSender({
    userAgent: "hookwire/0.0.0-test",
    allowPrivateNetworks: false,
    allowedNetworks: ["127.0.0.0/8"],
    ...overrides,
  });
  cleanups.push(() => created.destroy());
  return created;
}

async function receiver(handler: Parameters<typeof startReceiver>[0]): Promise<TestReceiver> {
  const started = await startReceiver(handler);
  cleanups.push(() => started.close());
  return started;
}

function request(url: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    url,
    method: "POST",
    headers: [{ name: "X-Custom", value: "yes" }],
    body: '{"kind":"flag"}',
    hookId: "hook1",
    connections: 10,
    deliveryId: "hook1:entry1",
    attempt: 1,
    captureErrorBody: true,
    ...overrides,
  };
}

describe("answers", () => {
  test("a 2xx is done, and the request carries the body and hookwire's headers", async () => {
    const rx = await receiver((_req, res) => res.writeHead(204).end());
    const result = await sender().send(
      request(`${rx.origin}/hook?x=1`, {
        attempt: 3,
        headers: [
          { name: "X-Custom", value: "yes" },
          { name: "User-Agent", value: "spoofed" },
        ],
      }),
    );

    expect(result).toMatchObject({ status: 204 });
    expect(result.errorCode).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(result.startedAt - Date.now())).toBeLessThan(5_000);
    expect(classifyAttempt(result, { attempt: 3, scheduleSeconds: schedule })).toEqual({ verb: "done" });
    const [got] = rx.requests;
    expect(got).toMatchObject({ method: "POST", url: "/hook?x=1", body: '{"kind":"flag"}' });
    expect(got?.headers).toMatchObject({
      "user-agent": "hookwire/0.0.0-test",
      "x-hookwire-delivery": "hook1:entry1",
      "x-hookwire-attempt": "3",
      "x-custom": "yes",
      "content-type": "application/json",
    });
  });

  test("2xx bodies are read to their end, so one socket carries every attempt", async () => {
    const rx = await receiver((_req, res) => res.end("x".repeat(8 * 1024)));
    const send = sender();
    for (let i = 0; i < 5; i++) expect((await send.send(request(rx.origin))).status).toBe(200);
    // undici frees a socket a tick after its body ends: a back-to-back send may open a second one.
    expect(rx.connections()).toBeLessThanOrEqual(2);
  });

  test("a 2xx whose body runs past the drain limit succeeds, its socket given up, not read on", async () => {
    const chunk = "x".repeat(16 * 1024);
    const rx = await receiver((req, res) => {
      if (req.url !== "/endless") return void res.end("fine");
      res.writeHead(200);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on("drain", more);
      more();
    });
    const send = sender();
    const result = await send.send(request(`${rx.origin}/endless`));
    expect(result).toMatchObject({ status: 200 });
    expect(result).not.toHaveProperty("errorCode");
    // The endless body's socket was dropped, not kept: the next attempt needs a socket of its own.
    expect((await send.send(request(`${rx.origin}/after`))).status).toBe(200);
    expect(rx.connections()).toBeGreaterThanOrEqual(2);
  });

  test("a hook's own Content-Type is kept; a body-less request sends none", async () => {
    const rx = await receiver((_req, res) => res.end("ok"));
    const send = sender();
    await send.send(request(rx.origin, { headers: [{ name: "content-type", value: "text/plain" }] }));
    await send.send(request(rx.origin, { method: "GET", body: null, headers: [] }));
    expect(rx.requests[0]?.headers["content-type"]).toBe("text/plain");
    expect(rx.requests[1]?.headers["content-type"]).toBeUndefined();
    expect(rx.requests[1]?.method).toBe("GET");
  });

  test("credentials in the URL become Basic auth", async () => {
    const rx = await receiver((_req, res) => res.end());
    const url = `http://alice:p%40ss@127.0.0.1:${rx.port}/`;
    await sender().send(request(url));
    expect(rx.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("alice:p@ss").toString("base64")}`,
    );
  });

  test("routeOrigin sends to the origin it names, with the URL's own path, query and Host", async () => {
    const rx = await receiver((_req, res) => res.end());
    const routed: string[] = [];
    const send = sender({
      routeOrigin: (origin) => {
        routed.push(origin);
        return rx.origin;
      },
    });
    const result = await send.send(request("https://api.honeycomb.io/1/markers/ds?x=1"));
    expect(result.status).toBe(200);
    expect(routed).toEqual(["https://api.honeycomb.io"]);
    expect(rx.requests[0]).toMatchObject({ url: "/1/markers/ds?x=1" });
    expect(rx.requests[0]?.headers.host).toBe("api.honeycomb.io");
  });

  test.each([
    [400, { verb: "give_up", reason: "HTTP 400", disableHook: false }],
    [500, { verb: "retry", delayMs: 5_000, reason: "HTTP 500" }],
    [410, { verb: "give_up", reason: "HTTP 410: endpoint gone", disableHook: true }],
  ])("an answer %i is classified", async (status, outcome) => {
    const rx = await receiver((_req, res) => res.writeHead(status).end("no"));
    const result = await sender().send(request(rx.origin));
    expect(result.status).toBe(status);
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule, random: fixedRandom })).toEqual(
      outcome,
    );
  });
});

describe("Retry-After", () => {
  test("seconds are a floor over the schedule", async () => {
    const rx = await receiver((_req, res) => res.writeHead(429, { "retry-after": "120" }).end());
    const result = await sender().send(request(rx.origin));
    expect(result.retryAfterMs).toBe(120_000);
    expect(
      classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule, random: fixedRandom }),
    ).toMatchObject({
      verb: "retry",
      delayMs: 120_000,
    });
  });

  test("an HTTP date is honoured", async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const rx = await receiver((_req, res) => res.writeHead(503, { "retry-after": at }).end());
    const result = await sender().send(request(rx.origin));
    // toUTCString drops the milliseconds, and a little time passes in between.
    expect(result.retryAfterMs).toBeGreaterThan(85_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(90_000);
    const outcome = classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule, random: fixedRandom });
    expect(outcome).toMatchObject({ verb: "retry", delayMs: result.retryAfterMs });
  });

  test("a huge value is capped", async () => {
    const rx = await receiver((_req, res) => res.writeHead(503, { "retry-after": "864000" }).end());
    const result = await sender().send(request(rx.origin));
    expect(result.retryAfterMs).toBe(864_000_000);
    const context = { attempt: 1, scheduleSeconds: schedule, random: fixedRandom };
    expect(classifyAttempt(result, context)).toMatchObject({ delayMs: 3_600_000 });
    expect(classifyAttempt(result, { ...context, retryAfterCapMs: 600_000 })).toMatchObject({
      delayMs: 600_000,
    });
  });
});

describe("signatures verify at the receiver", () => {
  test("hmacSignature: lowercase hex HMAC-SHA256 of the exact body", async () => {
    const rx = await receiver((_req, res) => res.end());
    const secret = "s3cret-form-variable";
    const body = '{"title":"Flag ✓ changed","n":1}';
    await sender().send(
      request(rx.origin, {
        body,
        headers: [{ name: "X-LD-Signature", value: hmacSha256Hex(secret, body)! }],
      }),
    );
    const got = rx.requests[0]!;
    const expected = createHmac("sha256", secret).update(Buffer.from(got.body, "utf8")).digest("hex");
    expect(got.headers["x-ld-signature"]).toBe(expected);
  });

  test("Standard Webhooks: v1 signature over id.timestamp.body with the decoded whsec_ key", async () => {
    const rx = await receiver((_req, res) => res.end());
    const key = Buffer.from("0123456789abcdef0123456789abcdef");
    const secret = `whsec_${key.toString("base64")}`;
    const body = '{"kind":"flag"}';
    const headers = standardWebhookHeaders({
      secret,
      id: "hook1:entry1",
      timestampSeconds: 1_700_000_000,
      body,
    });
    await sender().send(request(rx.origin, { body, headers }));

    const got = rx.requests[0]!;
    const signed = `${got.headers["webhook-id"]}.${got.headers["webhook-timestamp"]}.${got.body}`;
    const expected = createHmac("sha256", key).update(signed).digest("base64");
    expect(got.headers["webhook-timestamp"]).toBe("1700000000");
    expect(got.headers["webhook-signature"]).toBe(`v1,${expected}`);
  });
});

describe("error bodies", () => {
  test("a 1 MiB error body is cut to 4 KiB while streaming, and the sender keeps working", async () => {
    const chunk = "x".repeat(16 * 1024);
    const rx = await receiver((req, res) => {
      if (req.url === "/big") {
        res.writeHead(500, { "content-type": "text/plain" });
        for (let i = 0; i < 64; i++) res.write(chunk);
        res.end();
      } else {
        res.end("fine");
      }
    });
    const send = sender();
    const result = await send.send(request(`${rx.origin}/big`));
    expect(result.status).toBe(500);
    expect(result.errorBody).toBe("x".repeat(4096));

    const next = await send.send(request(`${rx.origin}/after`));
    expect(next.status).toBe(200);
  });

  test("small error bodies are kept whole and their sockets reused", async () => {
    const rx = await receiver((_req, res) => res.writeHead(422).end('{"error":"bad field"}'));
    const send = sender();
    const results = [];
    for (let i = 0; i < 6; i++)
      results.push(await send.send(request(rx.origin, { captureErrorBody: i % 2 === 0 })));
    expect(results.map((r) => r.errorBody)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 0 ? '{"error":"bad field"}' : undefined)),
    );
    expect(results.every((r) => r.status === 422)).toBe(true);
    // undici frees a socket a tick after its body ends, so a back-to-back send may open a second
    // one; a body that was not drained would cost a socket per request.
    expect(rx.connections()).toBeLessThanOrEqual(2);
  });

  test("the cut never splits a UTF-8 character", async () => {
    const rx = await receiver((_req, res) => res.writeHead(500).end("é".repeat(3000)));
    const result = await sender().send(request(rx.origin));
    expect(result.errorBody).toBe("é".repeat(2048));
    const split = await (async () => {
      const rx2 = await receiver((_req, res) => res.writeHead(500).end(`a${"é".repeat(3000)}`));
      return sender().send(request(rx2.origin));
    })();
    expect(split.errorBody).toBe(`a${"é".repeat(2047)}`);
    expect(split.errorBody).not.toContain("\ufffd");
  });

  test("an error body that breaks off midway keeps what arrived, and the status stands", async () => {
    const rx = await receiver((_req, res) => {
      res.writeHead(503, { "content-length": "1000" });
      res.write("partial answer", () => res.destroy());
    });
    const result = await sender().send(request(rx.origin));
    expect(result).toMatchObject({ status: 503, errorBody: "partial answer" });
    expect(result).not.toHaveProperty("errorCode");
  });

  test("nothing is kept when captureErrorBody is false", async () => {
    const rx = await receiver((_req, res) => res.writeHead(500).end("internal details"));
    const result = await sender().send(request(rx.origin, { captureErrorBody: false }));
    expect(result.status).toBe(500);
    expect(result).not.toHaveProperty("errorBody");
  });
});

test("a redirect is not followed and gives up", async () => {
  const rx = await receiver((req, res) => {
    if (req.url === "/start") res.writeHead(302, { location: "/final?token=abc" }).end();
    else res.end("followed");
  });
  const result = await sender().send(request(`${rx.origin}/start`));
  expect(result).toMatchObject({ status: 302, errorCode: "DELIVERY_ERR_REDIRECT" });
  expect(result.errorMessage).toContain(`to ${rx.origin}`);
  expect(result.errorMessage).not.toContain("token");
  expect(rx.requests.map((r) => r.url)).toEqual(["/start"]);
  expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule })).toMatchObject({
    verb: "give_up",
    disableHook: false,
  });
});

describe("network failures", () => {
  test("a receiver that never answers times out by the attempt deadline, and is retried", async () => {
    const rx = await receiver(() => {});
    const started = performance.now();
    const result = await sender({ attemptTimeoutMs: 200 }).send(request(rx.origin));
    expect(result.errorCode).toBe("DELIVERY_ERR_TIMEOUT");
    expect(result.errorMessage).toContain("200 ms");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule, random: fixedRandom })).toEqual({
      verb: "retry",
      delayMs: 5_000,
      reason: "DELIVERY_ERR_TIMEOUT",
    });
  });

  test("a request's cancel cuts a hanging attempt short, well before its deadline", async () => {
    let arrived: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const rx = await receiver(() => arrived());
    const cancel = new AbortController();
    const sending = sender().send(request(rx.origin, { timeoutMs: 60_000, cancel: cancel.signal }));
    await reached;
    cancel.abort();
    const result = await sending;
    expect(result.status).toBeUndefined();
    expect(result.errorCode).toBeDefined();
    expect(result.durationMs).toBeLessThan(30_000);
  });

  test("a request's own timeoutMs overrides the sender's", async () => {
    const rx = await receiver(() => {});
    const result = await sender().send(request(rx.origin, { timeoutMs: 150 }));
    expect(result.errorCode).toBe("DELIVERY_ERR_TIMEOUT");
    expect(result.errorMessage).toContain("150 ms");
  });

  test("a receiver that sends headers but stalls the body hits the body timeout", async () => {
    const rx = await receiver((_req, res) => {
      res.writeHead(200, { "content-length": "10" });
      res.write("12345");
    });
    const result = await sender({ bodyTimeoutMs: 150 }).send(request(rx.origin));
    // The status was received: the delivery is done even though the body never finished.
    expect(result.status).toBe(200);
  });

  test("a receiver slow to send headers hits the headers timeout", async () => {
    const rx = await receiver(() => {});
    const result = await sender({ headersTimeoutMs: 150 }).send(request(rx.origin));
    expect(result.errorCode).toBe("DELIVERY_ERR_TIMEOUT");
    expect(result.errorMessage).toContain("no response headers within 150 ms");
  });

  test("connection refused is a connect error, retried", async () => {
    const port = await closedPort();
    const result = await sender().send(request(`http://127.0.0.1:${port}/`));
    expect(result.errorCode).toBe("DELIVERY_ERR_CONNECT");
    expect(result.errorMessage).toContain("ECONNREFUSED");
    expect(
      classifyAttempt(result, { attempt: 2, scheduleSeconds: schedule, random: fixedRandom }),
    ).toMatchObject({
      verb: "retry",
      delayMs: 60_000,
    });
  });

  test("a receiver closing the socket mid-answer is a lost connection, retried", async () => {
    const rx = await receiver((_req, res, raw) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => raw.socket.destroy());
    });
    const rx2 = await receiver((_req, _res, raw) => raw.socket.destroy());
    const send = sender();
    const midBody = await send.send(request(rx.origin));
    expect(midBody.status).toBe(200);
    const beforeHeaders = await send.send(request(rx2.origin));
    expect(beforeHeaders.errorCode).toBe("DELIVERY_ERR_CONNECTION_LOST");
    expect(classifyAttempt(beforeHeaders, { attempt: 1, scheduleSeconds: schedule }).verb).toBe("retry");
  });
});

describe("secrets stay out of error messages", () => {
  const secrets = ["hunter2", "alice", "s3cr3t-token", "secret-path"];

  test.each([
    [
      "connect failure",
      async (port: number) => `http://alice:hunter2@127.0.0.1:${port}/secret-path?token=s3cr3t-token`,
    ],
    ["bad scheme", async () => "ftp://alice:hunter2@example.com/secret-path?token=s3cr3t-token"],
    ["unparsable URL", async () => "http://alice:hunter2@[bad/secret-path?token=s3cr3t-token"],
  ])("%s", async (_name, makeUrl) => {
    const url = await makeUrl(await closedPort());
    const result = await sender().send(request(url));
    expect(result.errorCode).toBeDefined();
    for (const secret of secrets) expect(result.errorMessage).not.toContain(secret);
  });

  test("a header value with a line break is refused without quoting the value", async () => {
    const rx = await receiver((_req, res) => res.end());
    const result = await sender().send(
      request(rx.origin, { headers: [{ name: "Authorization", value: "Bearer s3cr3t-token\r\nX-Evil: 1" }] }),
    );
    expect(result.errorCode).toBe("DELIVERY_ERR_BAD_REQUEST");
    expect(result.errorMessage).not.toContain("s3cr3t-token");
    expect(rx.requests).toHaveLength(0);
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule }).verb).toBe("give_up");
  });
});

describe("lifecycle", () => {
  test("close waits for the attempt in flight; later sends are refused as closed", async () => {
    const rx = await receiver((_req, res) => setImmediate(() => res.end("late")));
    const send = sender();
    const inFlight = send.send(request(rx.origin));
    await expect.poll(() => rx.requests.length).toBe(1);
    await send.close();
    expect((await inFlight).status).toBe(200);
    expect((await send.send(request(rx.origin))).errorCode).toBe("DELIVERY_ERR_CLOSED");
  });

  test("destroy ends an attempt in flight as closed, retried later", async () => {
    const rx = await receiver(() => {});
    const send = sender();
    const inFlight = send.send(request(rx.origin));
    await expect.poll(() => rx.requests.length).toBe(1);
    await send.destroy();
    const result = await inFlight;
    expect(result.errorCode).toBe("DELIVERY_ERR_CLOSED");
    expect(classifyAttempt(result, { attempt: 1, scheduleSeconds: schedule }).verb).toBe("retry");
  });

  test("bad options are refused at creation with the option named", () => {
    expect(() => createSender({ userAgent: "", allowPrivateNetworks: false, allowedNetworks: [] })).toThrow(
      /userAgent/,
    );
    expect(() =>
      createSender({
        userAgent: "hookwire/1",
        allowPrivateNetworks: false,
        allowedNetworks: [],
        connectTimeoutMs: 0,
      }),
    ).toThrow(/connectTimeoutMs must be an integer from 1/);
    expect(() =>
      createSender({
        userAgent: "hookwire/1",
        allowPrivateNetworks: false,
        allowedNetworks: ["10.0.0.0/33"],
      }),
    ).toThrow(/allowedNetworks\[0\]/);
  });
});

describe("refusedHost", () => {
  // Names resolve through the resolver given, as at send time.
  const names: Record<string, string[]> = {
    "inside.example": ["10.0.0.7"],
    "both.example": ["10.0.0.7", "127.0.0.1"],
  };
  const lookup: SenderConfig["lookup"] = (hostname, _options, callback) => {
    const found = names[hostname];
    if (found === undefined) callback(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }), []);
    else
      callback(
        null,
        found.map((address) => ({ address, family: 4 })),
      );
  };

  test("names a literal refused address, and a name that resolves only to refused ones", async () => {
    const guarded = sender({ lookup });
    expect(await guarded.refusedHost("http://169.254.169.254/latest")).toMatch(/metadata/);
    expect(await guarded.refusedHost("http://168.63.129.16/")).toMatch(/Azure/);
    expect(await guarded.refusedHost("https://inside.example/hook")).toMatch(
      /^inside\.example resolves only to refused addresses \(.*private/,
    );
  });

  test("lets pass an allowed address, a name with one allowed address, and a name that does not resolve now", async () => {
    const guarded = sender({ lookup });
    expect(await guarded.refusedHost("http://127.0.0.1:9/")).toBeUndefined();
    expect(await guarded.refusedHost("https://both.example/")).toBeUndefined();
    expect(await guarded.refusedHost("https://nowhere.example/")).toBeUndefined();
    expect(await guarded.refusedHost("not a url")).toBeUndefined();
  });
});
