/**
 * Webhook URL rules at creation: schemes, credentials, literal addresses in every spelling the URL
 * parser accepts, names resolved by the system resolver (localhost) and by a given resolver, and
 * what the operator's flag opens (loopback, private, link-local) and what it never opens.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createAddressPolicy, type ResolvedAddress } from "../../src/webhooks/index.js";

const strict = createAddressPolicy({ allowPrivate: false });
const open = createAddressPolicy({ allowPrivate: true });

async function refusal(policy: ReturnType<typeof createAddressPolicy>, url: string): Promise<AppError> {
  try {
    await policy.checkUrl(url);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`${url} was accepted`);
}

describe("webhook URL rules", () => {
  it("accepts http and https URLs on public addresses", async () => {
    for (const url of ["https://93.184.216.34/hooks/fediversity?x=1", "http://8.8.8.8:8080/", "https://[2606:4700::1111]/h"]) {
      await expect(strict.checkUrl(url)).resolves.toBeInstanceOf(URL);
    }
  });

  it("refuses other schemes, relative URLs, credentials and overlong URLs with invalid_argument on path url", async () => {
    const cases: [string, RegExp][] = [
      ["ftp://93.184.216.34/", /scheme ftp is not allowed/],
      ["file:///etc/passwd", /scheme file is not allowed/],
      ["javascript:alert(1)", /scheme javascript is not allowed/],
      ["/relative", /not an absolute URL/],
      ["not a url", /not an absolute URL/],
      ["https://user:pw@93.184.216.34/", /credentials/],
      [`https://93.184.216.34/${"a".repeat(2100)}`, /longer than 2048/],
    ];
    for (const [url, why] of cases) {
      const err = await refusal(strict, url);
      expect(err.code, url).toBe("invalid_argument");
      expect(err.details?.[0]?.path).toBe("url");
      expect(err.message).toMatch(why);
    }
  });

  it("refuses loopback, private and link-local literals in every spelling, unless the flag allows them", async () => {
    const cases: [string, string][] = [
      ["http://127.0.0.1:8080/", "127.0.0.1 is a loopback address"],
      ["http://2130706433/", "127.0.0.1 is a loopback address"], // decimal form, normalized by the URL parser
      ["http://0x7f.1/", "127.0.0.1 is a loopback address"],
      ["http://[::1]/", "::1 is a loopback address"],
      ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 is a loopback address"],
      ["http://10.0.0.5/", "10.0.0.5 is a private address"],
      ["http://192.168.1.10/", "192.168.1.10 is a private address"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"],
      ["http://[fd00::1]/", "fd00::1 is a private address"],
    ];
    for (const [url, why] of cases) {
      expect((await refusal(strict, url)).message, url).toBe(`url: refused: ${why}`);
      await expect(open.checkUrl(url), url).resolves.toBeInstanceOf(URL);
    }
  });

  it("never accepts unspecified, multicast or reserved addresses, even with the flag", async () => {
    for (const url of ["http://0.0.0.0:8080/", "http://[::]/", "http://224.0.0.1/", "http://255.255.255.255/", "http://[ff02::1]/"]) {
      expect((await refusal(open, url)).message, url).toMatch(/refused: .* is an? (unspecified|multicast|reserved) address/);
    }
  });

  it("resolves names with the system resolver: localhost is loopback", async () => {
    expect((await refusal(strict, "http://localhost:9000/")).message).toMatch(/^url: refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    await expect(open.checkUrl("http://localhost:9000/")).resolves.toBeInstanceOf(URL);
  });

  it("refuses a name when any of its addresses is refused, and says when it does not resolve", async () => {
    const answers: Record<string, ResolvedAddress[]> = {
      "mixed.example": [{ address: "93.184.216.34", family: 4 }, { address: "fe80::1", family: 6 }],
      "public.example": [{ address: "93.184.216.34", family: 4 }],
      "empty.example": [],
    };
    const resolve = async (name: string) => {
      if (name === "missing.example") throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
      if (name === "flaky.example") throw Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
      return answers[name] ?? [];
    };
    const policy = createAddressPolicy({ allowPrivate: false, resolve });
    await expect(policy.checkUrl("https://public.example/h")).resolves.toBeInstanceOf(URL);
    expect((await refusal(policy, "https://mixed.example/h")).message).toBe("url: refused: mixed.example resolves to fe80::1, a link-local address");
    expect((await refusal(policy, "https://missing.example/h")).message).toBe("url: missing.example does not resolve");
    expect((await refusal(policy, "https://empty.example/h")).message).toBe("url: empty.example does not resolve");
    const flaky = await refusal(policy, "https://flaky.example/h");
    expect(flaky.code).toBe("unavailable");
    // A resolver that never answers is given up after the bound.
    const silent = createAddressPolicy({ allowPrivate: false, resolve: () => new Promise(() => undefined), resolveTimeoutMs: 100 });
    const t0 = Date.now();
    const slow = await refusal(silent, "https://silent.example/h");
    expect(slow.code).toBe("unavailable");
    expect(slow.message).toMatch(/cannot resolve silent\.example now \(ETIMEOUT\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
