import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { buildConnector } from "undici";
import type { AddressGuard } from "./address-guard";
import type { ClientTls } from "./attempt";
import { DeliveryError } from "./errors";
import type { Resolver } from "./sender-config";

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
 */
export function createGuardedConnector(options: {
  guard: AddressGuard;
  resolver: Resolver | undefined;
  connectTimeoutMs: number;
  /** A hook's TLS settings: its client certificate and key (mTLS), the CA it trusts. */
  tls?: ClientTls | undefined;
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
