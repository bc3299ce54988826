/**
 * Classifies an IP address by the range it falls in, for the webhook URL rules (api.md "Additions
 * in v1.1"). Pure: works on the textual address (as `dns.lookup` or the URL parser yields it).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address inside, so `::ffff:127.0.0.1`
 * is loopback like `127.0.0.1`.
 */

/**
 * `public`: a webhook may target it. `loopback`, `private`, `link_local`: refused unless the
 * operator allows private targets. `unspecified`, `multicast`, `reserved`: never a target (an
 * unspecified address connects to the local host on Linux).
 */
export type AddressClass = "public" | "loopback" | "private" | "link_local" | "unspecified" | "multicast" | "reserved";

/** The classes the operator's flag can open; the others are refused always. */
export function isPrivateClass(c: AddressClass): boolean {
  return c === "loopback" || c === "private" || c === "link_local";
}

interface Range4 {
  readonly base: number;
  readonly bits: number;
  readonly cls: AddressClass;
}

// Most specific ranges first where they nest (255.255.255.255 inside 240/4 is still "reserved").
const ranges4: readonly Range4[] = [
  { base: ip4(0, 0, 0, 0), bits: 8, cls: "unspecified" },
  { base: ip4(10, 0, 0, 0), bits: 8, cls: "private" },
  { base: ip4(100, 64, 0, 0), bits: 10, cls: "private" }, // shared address space (carrier NAT)
  { base: ip4(127, 0, 0, 0), bits: 8, cls: "loopback" },
  { base: ip4(169, 254, 0, 0), bits: 16, cls: "link_local" },
  { base: ip4(172, 16, 0, 0), bits: 12, cls: "private" },
  { base: ip4(192, 0, 0, 0), bits: 24, cls: "reserved" }, // IETF protocol assignments
  { base: ip4(192, 168, 0, 0), bits: 16, cls: "private" },
  { base: ip4(198, 18, 0, 0), bits: 15, cls: "private" }, // benchmarking networks
  { base: ip4(224, 0, 0, 0), bits: 4, cls: "multicast" },
  { base: ip4(240, 0, 0, 0), bits: 4, cls: "reserved" }, // includes the broadcast address
];

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function inRange4(addr: number, r: Range4): boolean {
  const mask = r.bits === 0 ? 0 : (0xffffffff << (32 - r.bits)) >>> 0;
  return (addr & mask) >>> 0 === r.base;
}

/** Parses a dotted quad (four decimal parts 0..255) into a 32-bit number, or null. */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}

/** Parses an IPv6 address (with `::`, an IPv4 tail, an optional `%zone`) into 8 groups, or null. */
export function parseIPv6(text: string): number[] | null {
  const noZone = text.replace(/%.*$/, "");
  const halves = noZone.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i] ?? "";
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

export function classifyIPv4(addr: number): AddressClass {
  for (const r of ranges4) if (inRange4(addr, r)) return r.cls;
  return "public";
}

export function classifyIPv6(g: readonly number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = ((g6 << 16) | g7) >>> 0;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0) {
    if (g6 === 0 && g7 === 0) return "unspecified"; // ::
    if (g6 === 0 && g7 === 1) return "loopback"; // ::1
    return classifyIPv4(embedded); // IPv4-compatible ::a.b.c.d
  }
  if (firstFiveZero && g5 === 0xffff) return classifyIPv4(embedded); // IPv4-mapped
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyIPv4(embedded); // NAT64
  if (g0 === 0x2002) return classifyIPv4(((g1 << 16) | g2) >>> 0); // 6to4
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if ((g0 & 0xffc0) === 0xfe80) return "link_local";
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return "reserved"; // discard-only
  return "public";
}

/** The class of a textual IP address, or null when `text` is not an IP address. */
export function classifyAddress(text: string): AddressClass | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return classifyIPv4(v4);
  const v6 = text.includes(":") ? parseIPv6(text.replace(/^\[(.*)\]$/, "$1")) : null;
  return v6 ? classifyIPv6(v6) : null;
}
