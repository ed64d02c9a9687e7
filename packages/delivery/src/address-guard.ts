import { BlockList, isIP } from "node:net";
import { DeliveryError } from "./errors";

/**
 * The SSRF guard's judgement of one IP address: may a delivery connect to it?
 *
 * Only public unicast is allowed by default. IPv4 goes through a deny table (IANA special-purpose
 * registry plus the ranges clouds use for metadata); IPv6 must be global unicast (2000::/3) and
 * outside the special blocks inside it. Forms that carry an IPv4 address to a local translator
 * (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96) are judged by the IPv4 address they embed, so
 * `::ffff:127.0.0.1` is loopback; tunnel forms whose far end we cannot vet (6to4, Teredo) are refused.
 */
export interface AddressGuard {
  isAllowed(ip: string): boolean;
  /** Why the address is refused, for the attempt's error message; undefined when allowed. */
  whyRefused(ip: string): string | undefined;
  /** True when nothing but public unicast is reachable: the `includeErrorResponseBody` condition. */
  readonly privateNetworksBlocked: boolean;
}

export interface AddressGuardConfig {
  allowPrivateNetworks: boolean;
  /** CIDRs (or single addresses) opened despite the deny table, e.g. "10.1.0.0/16", "fd00::/8". */
  allowedNetworks: readonly string[];
}

type Family = "ipv4" | "ipv6";
interface Rule {
  readonly family: Family;
  readonly network: string;
  readonly prefix: number;
  readonly reason: string;
}

function rule(family: Family, cidr: string, reason: string): Rule {
  const [network = "", prefix = ""] = cidr.split("/");
  return { family, network, prefix: Number(prefix), reason };
}

// Order matters only for the reason shown: the more specific range comes first.
const ipv4Rules: readonly Rule[] = [
  rule("ipv4", "0.0.0.0/8", "unspecified / this network"),
  rule("ipv4", "10.0.0.0/8", "private"),
  rule("ipv4", "100.100.100.200/32", "cloud metadata service (Alibaba Cloud)"),
  rule("ipv4", "100.64.0.0/10", "carrier-grade NAT (shared address space)"),
  rule("ipv4", "127.0.0.0/8", "loopback"),
  // Every provider's instance metadata (AWS, GCP, Azure, Oracle, DigitalOcean, Hetzner, OpenStack)
  // and the neighbours on it: AWS's DNS and time, ECS task metadata, Tencent's metadata.
  rule("ipv4", "169.254.169.254/32", "link-local cloud metadata service"),
  rule("ipv4", "169.254.169.253/32", "link-local cloud DNS (AWS)"),
  rule("ipv4", "169.254.169.123/32", "link-local cloud time service (AWS)"),
  rule("ipv4", "169.254.170.2/32", "link-local container metadata (AWS ECS)"),
  rule("ipv4", "169.254.0.23/32", "link-local cloud metadata service (Tencent Cloud)"),
  rule("ipv4", "169.254.0.0/16", "link-local"),
  rule("ipv4", "172.16.0.0/12", "private"),
  rule("ipv4", "168.63.129.16/32", "cloud host endpoint (Azure WireServer)"),
  rule("ipv4", "192.0.0.192/32", "cloud metadata service (Oracle Cloud, legacy)"),
  rule("ipv4", "192.0.0.0/24", "IETF protocol assignments"),
  rule("ipv4", "192.0.2.0/24", "documentation (TEST-NET-1)"),
  rule("ipv4", "192.88.99.0/24", "6to4 relay anycast (deprecated)"),
  rule("ipv4", "192.168.0.0/16", "private"),
  rule("ipv4", "198.18.0.0/15", "benchmarking"),
  rule("ipv4", "198.51.100.0/24", "documentation (TEST-NET-2)"),
  rule("ipv4", "203.0.113.0/24", "documentation (TEST-NET-3)"),
  rule("ipv4", "224.0.0.0/4", "multicast"),
  rule("ipv4", "255.255.255.255/32", "broadcast"),
  rule("ipv4", "240.0.0.0/4", "reserved"),
];

const ipv6Rules: readonly Rule[] = [
  rule("ipv6", "::/128", "unspecified"),
  rule("ipv6", "::1/128", "loopback"),
  rule("ipv6", "::/96", "IPv4-compatible (deprecated)"),
  rule("ipv6", "64:ff9b:1::/48", "NAT64 local-use prefix"),
  rule("ipv6", "100::/64", "discard-only"),
  rule("ipv6", "2001::/32", "Teredo tunnel"),
  rule("ipv6", "2001:db8::/32", "documentation"),
  rule("ipv6", "2001::/23", "IETF protocol assignments"),
  rule("ipv6", "2002::/16", "6to4 tunnel"),
  rule("ipv6", "3fff::/20", "documentation"),
  rule("ipv6", "fd00:ec2::254/128", "cloud metadata service (AWS, IPv6)"),
  rule("ipv6", "fd00:ec2::/32", "cloud services (AWS, IPv6: DNS, time)"),
  rule("ipv6", "fc00::/7", "unique local (private)"),
  rule("ipv6", "fe80::/10", "link-local"),
  rule("ipv6", "fec0::/10", "site-local (deprecated)"),
  rule("ipv6", "ff00::/8", "multicast"),
  // Everything outside 2000::/3 (global unicast) that the lines above did not name.
  rule("ipv6", "::/3", "not global unicast"),
  rule("ipv6", "4000::/2", "not global unicast"),
  rule("ipv6", "8000::/1", "not global unicast"),
];

function blockListOf(rules: readonly Rule[]): BlockList {
  const list = new BlockList();
  for (const r of rules) list.addSubnet(r.network, r.prefix, r.family);
  return list;
}

// One list per family answers the common case; the per-rule lists only word a refusal. Families
// are never mixed in one BlockList: it matches an IPv4 address against IPv6 rules through its
// IPv4-mapped form, so `::/3` would swallow all of IPv4.
const denied = { ipv4: blockListOf(ipv4Rules), ipv6: blockListOf(ipv6Rules) };
const reasons = [...ipv4Rules, ...ipv6Rules].map((r) => ({ rule: r, list: blockListOf([r]) }));

/**
 * IPv6 text (validated by isIP, zone already stripped) to its eight 16-bit groups. Handles `::`
 * and a trailing dotted quad.
 */
export function ipv6Groups(text: string): number[] {
  let source = text;
  const lastColon = source.lastIndexOf(":");
  if (source.includes(".", lastColon)) {
    const octets = source
      .slice(lastColon + 1)
      .split(".")
      .map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    source = `${source.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const gap = source.indexOf("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  if (gap === -1) return parse(source);
  const head = parse(source.slice(0, gap));
  const tail = parse(source.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

interface Effective {
  address: string;
  family: Family;
  /** Set when an IPv6 address was judged by the IPv4 address it embeds. */
  via?: string;
}

function effectiveAddress(ip: string, family: 4 | 6): Effective {
  if (family === 4) return { address: ip, family: "ipv4" };
  const g = ipv6Groups(ip);
  const embedsIpv4 = g[2] === 0 && g[3] === 0 && g[4] === 0;
  if (embedsIpv4 && g[0] === 0 && g[1] === 0 && g[5] === 0xffff) {
    return { address: ipv4From(g), family: "ipv4", via: "IPv4-mapped" };
  }
  if (embedsIpv4 && g[0] === 0x64 && g[1] === 0xff9b && g[5] === 0) {
    return { address: ipv4From(g), family: "ipv4", via: "NAT64" };
  }
  return { address: ip, family: "ipv6" };
}

function ipv4From(groups: readonly number[]): string {
  const hi = groups[6] ?? 0;
  const lo = groups[7] ?? 0;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function parseAllowedNetworks(entries: readonly string[]): Record<Family, BlockList> {
  const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
  entries.forEach((entry, index) => {
    const text = entry.trim();
    const slash = text.indexOf("/");
    const address = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(address);
    const where = `allowedNetworks[${index}] ${JSON.stringify(entry)}`;
    if (family === 0) {
      throw new DeliveryError("DELIVERY_ERR_BAD_CONFIG", `${where}: "${address}" is not an IP address`);
    }
    const max = family === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
      throw new DeliveryError(
        "DELIVERY_ERR_BAD_CONFIG",
        `${where}: prefix length must be an integer from 0 to ${max}, got "${prefixText}"`,
      );
    }
    if (family === 4) lists.ipv4.addSubnet(address, prefix, "ipv4");
    else lists.ipv6.addSubnet(address, prefix, "ipv6");
  });
  return lists;
}

export function createAddressGuard(config: AddressGuardConfig): AddressGuard {
  const allowed = parseAllowedNetworks(config.allowedNetworks);
  const openAll = config.allowPrivateNetworks;

  function whyRefused(input: string): string | undefined {
    const zone = input.indexOf("%");
    const ip = zone === -1 ? input : input.slice(0, zone);
    const family = isIP(ip);
    if (family === 0) return `"${input}" is not an IP address`;
    if (openAll) return undefined;
    const eff = effectiveAddress(ip, family as 4 | 6);
    if (allowed[eff.family].check(eff.address, eff.family)) return undefined;
    if (eff.via !== undefined && allowed.ipv6.check(ip, "ipv6")) return undefined;
    if (!denied[eff.family].check(eff.address, eff.family)) return undefined;
    const found = reasons.find((r) => r.rule.family === eff.family && r.list.check(eff.address, eff.family));
    const range = found ? `${found.rule.reason} (${found.rule.network}/${found.rule.prefix})` : "not public";
    return eff.via === undefined
      ? `${ip} is ${range}`
      : `${ip} is the ${eff.via} form of ${eff.address}, which is ${range}`;
  }

  return {
    whyRefused,
    isAllowed: (ip) => whyRefused(ip) === undefined,
    privateNetworksBlocked: !openAll && config.allowedNetworks.length === 0,
  };
}
