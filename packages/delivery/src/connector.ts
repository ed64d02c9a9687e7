import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import { isIP, type LookupFunction, connect as netConnect, type Socket } from "node:net";
import { buildConnector } from "undici";
import type { AddressGuard } from "./address-guard";
import type { ClientTls } from "./attempt";
import { DeliveryError } from "./errors";
import type { EgressProxy, Resolver } from "./sender-config";

/**
 * The SSRF guard's enforcement point: every new connection of the sender's Agent goes through here.
 *
 * A host name is resolved once, by us; every address it resolves to must pass the guard, and the
 * socket connects to those vetted addresses (Node's connect takes them from our lookup, it does not
 * resolve again), so a DNS answer that changes between check and connect (rebinding) cannot slip
 * through. Host and SNI stay the URL's host name. A literal IP (already canonical: WHATWG URL turns
 * `2130706433` or `0x7f.1` into `127.0.0.1`, undici strips the brackets of `[::ffff:7f00:1]`) is
 * judged directly. Checking per connection, not per request, keeps the guard off the hot path:
 * keep-alive sockets were vetted when opened.
 *
 * With HOOKWIRE_EGRESS_PROXY the connection is a CONNECT tunnel, opened here by hand (`tunnel`)
 * rather than by undici's ProxyAgent: that one asks the proxy for the URL's host name (the proxy
 * would resolve it, after the guard, so a rebinding answer could slip through) and replaces the
 * per-hook pools; here the tunnel asks for the address the guard vetted, inside each hook's pool.
 */
export function createGuardedConnector(options: {
  guard: AddressGuard;
  resolver: Resolver | undefined;
  connectTimeoutMs: number;
  /** A hook's TLS settings: its client certificate and key (mTLS), the CA it trusts. */
  tls?: ClientTls | undefined;
  /** HOOKWIRE_EGRESS_PROXY: every connection is a CONNECT tunnel through it. */
  proxy?: EgressProxy | undefined;
}): buildConnector.connector {
  const { guard } = options;
  const resolve: Resolver = options.resolver ?? dnsLookup;

  const lookup = ((hostname: string, lookupOptions: LookupOptions, callback: LookupCallback) => {
    const resolveOptions: LookupAllOptions = { all: true };
    if (lookupOptions.family !== undefined) resolveOptions.family = lookupOptions.family;
    if (lookupOptions.hints !== undefined) resolveOptions.hints = lookupOptions.hints;
    resolve(hostname, resolveOptions, (error, addresses) => {
      if (error || addresses.length === 0) {
        const why = error?.code ?? "no address";
        callback(
          new DeliveryError("DELIVERY_ERR_DNS", `${hostname} did not resolve (${why})`, { cause: error }),
        );
        return;
      }
      for (const entry of addresses) {
        const refusal = guard.whyRefused(entry.address);
        if (refusal !== undefined) {
          callback(refused(`${hostname} resolved to a refused address: ${refusal}`));
          return;
        }
      }
      if (lookupOptions.all === true) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;

  const tls = options.tls;
  const base = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup,
    ...(tls?.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
  });

  const proxy = options.proxy;
  if (proxy !== undefined) {
    // Through the proxy: the target is vetted here, by the same guard, and the tunnel asks for the
    // vetted address itself (the proxy never resolves the name, so it cannot be rebound); the
    // Host header and TLS's server name stay the URL's host name. For https the TLS runs inside
    // the tunnel (undici's connector, given the tunnel as `httpSocket`).
    return function connectThroughProxy(connectOptions, callback) {
      const host = connectOptions.hostname;
      const port = Number(connectOptions.port) || (connectOptions.protocol === "https:" ? 443 : 80);
      const vetted = (address: string) => {
        tunnel(proxy, address, port, options.connectTimeoutMs).then(
          (socket) => {
            if (connectOptions.protocol === "https:")
              base({ ...connectOptions, httpSocket: socket }, callback);
            else callback(null, socket);
          },
          (error: Error) => callback(error, null),
        );
      };
      if (isIP(host) !== 0) {
        const refusal = guard.whyRefused(host);
        if (refusal !== undefined) process.nextTick(callback, refused(refusal), null);
        else vetted(host);
        return;
      }
      // One vetted address (the lookup below checks every one the name resolves to).
      (lookup as unknown as OneAddressLookup)(host, {}, (error, address) => {
        if (error || address === undefined) callback(error ?? refused(`${host} did not resolve`), null);
        else vetted(address);
      });
    };
  }

  return function connect(connectOptions, callback) {
    const host = connectOptions.hostname;
    if (isIP(host) !== 0) {
      const refusal = guard.whyRefused(host);
      if (refusal !== undefined) {
        process.nextTick(callback, refused(refusal), null);
        return;
      }
    }
    return base(connectOptions, callback);
  };
}

/** The longest answer to a CONNECT that is read, headers included. */
const MAX_PROXY_ANSWER_BYTES = 16 * 1024;

/**
 * A CONNECT tunnel to `address:port` through the egress proxy. Every failure is the proxy's
 * (DELIVERY_ERR_PROXY), never the receiver's; no message quotes the proxy's credentials.
 */
function tunnel(proxy: EgressProxy, address: string, port: number, timeoutMs: number): Promise<Socket> {
  const target = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  const where = `the egress proxy ${proxy.host}:${proxy.port}`;
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: proxy.host, port: proxy.port });
    let answer = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown) => {
      socket.destroy();
      reject(new DeliveryError("DELIVERY_ERR_PROXY", message, { cause }));
    };
    socket.setTimeout(timeoutMs, () =>
      fail(`${where} did not open a tunnel to ${target} within ${timeoutMs} ms`),
    );
    socket.once("error", (error: NodeJS.ErrnoException) =>
      fail(`could not reach ${where} (${error.code ?? "error"})`, error),
    );
    socket.once("connect", () => {
      const authorization =
        proxy.authorization === undefined ? "" : `Proxy-Authorization: ${proxy.authorization}\r\n`;
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorization}\r\n`);
    });
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf("\r\n\r\n");
      if (end === -1) {
        if (answer.length > MAX_PROXY_ANSWER_BYTES) fail(`${where} answered CONNECT with headers too long`);
        return;
      }
      socket.off("data", onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, end).toString("latin1"))?.[1];
      if (status !== "200") {
        fail(
          `${where} refused a tunnel to ${target} (${status === undefined ? "not an HTTP answer" : `HTTP ${status}`})`,
        );
        return;
      }
      socket.setTimeout(0);
      socket.removeAllListeners("error");
      const rest = answer.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on("data", onData);
  });
}

type OneAddressLookup = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address?: string) => void,
) => void;

type LookupCallback = {
  (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void;
  (error: NodeJS.ErrnoException | null, address?: string, family?: number): void;
};

function refused(detail: string): DeliveryError {
  return new DeliveryError(
    "DELIVERY_ERR_SSRF_BLOCKED",
    `refused to connect: ${detail}; to deliver there, set HOOKWIRE_ALLOW_PRIVATE_NETWORKS=true ` +
      "or list its network in HOOKWIRE_ALLOWED_NETWORKS",
  );
}
