import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createAddressGuard, ipv6Groups } from "./address-guard";

const strict = createAddressGuard({ allowPrivateNetworks: false, allowedNetworks: [] });

describe("the default guard", () => {
  test.each([
    // address, allowed, words the refusal must contain
    ["8.8.8.8", true, ""],
    ["93.184.215.14", true, ""],
    ["1.1.1.1", true, ""],
    ["100.63.255.255", true, ""],
    ["100.128.0.0", true, ""],
    ["172.15.255.255", true, ""],
    ["172.32.0.0", true, ""],
    ["192.0.1.1", true, ""],
    ["223.255.255.255", true, ""],
    ["2606:4700:4700::1111", true, ""],
    ["2a00:1450:4001:800::200e", true, ""],
    ["64:ff9b::808:808", true, ""], // NAT64 form of 8.8.8.8
    ["::ffff:8.8.8.8", true, ""],
    ["0.0.0.0", false, "unspecified"],
    ["0.1.2.3", false, "this network"],
    ["10.0.0.1", false, "private (10.0.0.0/8)"],
    ["10.255.255.255", false, "private"],
    ["100.64.0.1", false, "carrier-grade NAT"],
    ["100.100.100.200", false, "cloud metadata service (Alibaba Cloud)"],
    ["127.0.0.1", false, "loopback"],
    ["127.255.255.254", false, "loopback"],
    ["169.254.169.254", false, "cloud metadata"],
    ["169.254.1.1", false, "link-local (169.254.0.0/16)"],
    ["172.16.0.1", false, "private (172.16.0.0/12)"],
    ["172.31.255.255", false, "private"],
    ["192.0.0.192", false, "cloud metadata service (Oracle Cloud, legacy)"],
    ["168.63.129.16", false, "cloud host endpoint (Azure WireServer)"], // a public address: refused only by name
    ["192.0.2.1", false, "documentation"],
    ["192.88.99.1", false, "6to4 relay"],
    ["192.168.1.1", false, "private (192.168.0.0/16)"],
    ["198.18.0.1", false, "benchmarking"],
    ["198.51.100.7", false, "documentation"],
    ["203.0.113.9", false, "documentation"],
    ["224.0.0.1", false, "multicast"],
    ["239.255.255.250", false, "multicast"],
    ["240.0.0.1", false, "reserved"],
    ["255.255.255.255", false, "broadcast"],
    ["::", false, "unspecified"],
    ["::1", false, "loopback"],
    ["::ffff:127.0.0.1", false, "IPv4-mapped form of 127.0.0.1, which is loopback"],
    ["::ffff:7f00:1", false, "IPv4-mapped form of 127.0.0.1"],
    ["::ffff:169.254.169.254", false, "metadata"],
    ["::ffff:a00:1", false, "IPv4-mapped form of 10.0.0.1, which is private"],
    ["64:ff9b::127.0.0.1", false, "NAT64 form of 127.0.0.1"],
    ["64:ff9b::a9fe:a9fe", false, "NAT64 form of 169.254.169.254"],
    ["64:ff9b:1::a00:1", false, "NAT64 local-use"],
    ["::127.0.0.1", false, "IPv4-compatible"],
    ["::ffff:0:7f00:1", false, "not global unicast"], // IPv4-translated (SIIT)
    ["100::1", false, "discard-only"],
    ["2001:db8::1", false, "documentation"],
    ["2001::1", false, "Teredo"],
    ["2001:2::1", false, "IETF protocol assignments"],
    ["2002:7f00:1::1", false, "6to4"],
    ["3fff::1", false, "documentation"],
    ["fc00::1", false, "unique local"],
    ["fd00:ec2::254", false, "cloud metadata service (AWS, IPv6)"],
    ["fe80::1", false, "link-local"],
    ["fe80::1%eth0", false, "link-local"],
    ["febf::1", false, "link-local"],
    ["fec0::1", false, "site-local"],
    ["ff02::1", false, "multicast"],
    ["4000::1", false, "not global unicast"],
    ["not-an-ip", false, "not an IP address"],
    ["", false, "not an IP address"],
  ] as const)("%s → allowed %s", (address, allowed, words) => {
    expect(strict.isAllowed(address)).toBe(allowed);
    const why = strict.whyRefused(address);
    if (allowed) expect(why).toBeUndefined();
    else expect(why).toContain(words);
  });

  test("blocks private networks, so error bodies may be kept", () => {
    expect(strict.privateNetworksBlocked).toBe(true);
  });
});

describe("allowances", () => {
  test("allowedNetworks opens its CIDRs only, whatever the form of the address", () => {
    const guard = createAddressGuard({
      allowPrivateNetworks: false,
      allowedNetworks: ["10.1.0.0/16", "fd00::/8", "127.0.0.1"],
    });
    expect(guard.isAllowed("10.1.2.3")).toBe(true);
    expect(guard.isAllowed("::ffff:10.1.2.3")).toBe(true);
    expect(guard.isAllowed("64:ff9b::a01:203")).toBe(true);
    expect(guard.isAllowed("10.2.0.1")).toBe(false);
    expect(guard.isAllowed("fd12::1")).toBe(true);
    expect(guard.isAllowed("fc00::1")).toBe(false);
    expect(guard.isAllowed("127.0.0.1")).toBe(true);
    expect(guard.isAllowed("127.0.0.2")).toBe(false);
    expect(guard.privateNetworksBlocked).toBe(false);
  });

  test("allowPrivateNetworks opens every address", () => {
    const open = createAddressGuard({ allowPrivateNetworks: true, allowedNetworks: [] });
    for (const address of ["127.0.0.1", "::1", "169.254.169.254", "fe80::1", "8.8.8.8"]) {
      expect(open.isAllowed(address)).toBe(true);
    }
    expect(open.isAllowed("nope")).toBe(false);
    expect(open.privateNetworksBlocked).toBe(false);
  });

  test.each([
    ["10.0.0.0/33", /allowedNetworks\[0\] "10.0.0.0\/33": prefix length must be an integer from 0 to 32/],
    ["fd00::/129", /from 0 to 128, got "129"/],
    ["10.0.0.0/x", /got "x"/],
    ["10.0.0/8", /"10.0.0" is not an IP address/],
    ["example.com", /not an IP address/],
  ])("a bad allowedNetworks entry %s is refused with a clear message", (entry, message) => {
    expect(() => createAddressGuard({ allowPrivateNetworks: false, allowedNetworks: [entry] })).toThrow(
      message,
    );
    try {
      createAddressGuard({ allowPrivateNetworks: false, allowedNetworks: [entry] });
    } catch (error) {
      expect(error).toMatchObject({ code: "DELIVERY_ERR_BAD_CONFIG" });
    }
  });
});

describe("properties", () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
  const hex = (a: string) => {
    const [p = 0, q = 0, r = 0, s = 0] = a.split(".").map(Number);
    return `${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  };

  test("an IPv4 address and its IPv4-mapped and NAT64 forms are judged alike", () => {
    fc.assert(
      fc.property(ipv4, (address) => {
        const verdict = strict.isAllowed(address);
        expect(strict.isAllowed(`::ffff:${address}`)).toBe(verdict);
        expect(strict.isAllowed(`::ffff:${hex(address)}`)).toBe(verdict);
        expect(strict.isAllowed(`64:ff9b::${hex(address)}`)).toBe(verdict);
      }),
      { numRuns: 2000 },
    );
  });

  test("ipv6Groups reads every textual form of an address the same", () => {
    const groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, (g) => {
        const full = g.map((n) => n.toString(16)).join(":");
        const canonical = new URL(`http://[${full}]/`).hostname.slice(1, -1); // compressed with ::
        expect(ipv6Groups(full)).toEqual(g);
        expect(ipv6Groups(canonical)).toEqual(g);
      }),
    );
  });
});
