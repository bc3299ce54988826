import { describe, expect, it } from "vitest";
import { classifyAddress, isPrivateClass, parseIPv6, type AddressClass } from "./address-ranges.js";

const cases: [string, AddressClass][] = [
  ["127.0.0.1", "loopback"],
  ["127.255.1.2", "loopback"],
  ["::1", "loopback"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.32.0.1", "public"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "private"],
  ["100.128.0.1", "public"],
  ["169.254.169.254", "link_local"],
  ["fe80::1", "link_local"],
  ["fe80::1%eth0", "link_local"],
  ["febf::1", "link_local"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["224.0.0.1", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "reserved"],
  ["240.0.0.1", "reserved"],
  ["8.8.8.8", "public"],
  ["93.184.216.34", "public"],
  ["2606:4700::1111", "public"],
  // IPv6 forms that carry an IPv4 address are judged by that address.
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:8.8.8.8", "public"],
  ["::127.0.0.1", "loopback"],
  ["64:ff9b::a9fe:a9fe", "link_local"],
  ["2002:c0a8:0101::1", "private"],
  ["2002:0808:0808::1", "public"],
  ["[::1]", "loopback"],
];

describe("classifyAddress", () => {
  it.each(cases)("%s is %s", (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it("answers null for names and malformed addresses", () => {
    for (const text of ["localhost", "example.org", "1.2.3", "1.2.3.256", "1::2::3", "12345::1", "1:2:3:4:5:6:7:8:9", "", "01.02.03.04x"]) {
      expect(classifyAddress(text), text).toBeNull();
    }
  });

  it("only loopback, private and link-local can be opened by the operator's flag", () => {
    const openable = (["public", "loopback", "private", "link_local", "unspecified", "multicast", "reserved"] as const).filter(isPrivateClass);
    expect(openable).toEqual(["loopback", "private", "link_local"]);
  });

  it("expands :: in every position", () => {
    expect(parseIPv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::2")).toEqual([0, 0, 0, 0, 0, 0, 0, 2]);
    expect(parseIPv6("1:2::7:8")).toEqual([1, 2, 0, 0, 0, 0, 7, 8]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6("1:2:3:4:5:6:7::8")).toBeNull();
  });
});
