/**
 * Which URLs a webhook may target (api.md "Additions in v1.1"): `http`/`https` only, no
 * credentials in the URL, and no address on loopback, link-local or private ranges unless the
 * operator allows them. Names are resolved and every address is checked, at creation and again on
 * every connection: the sender connects through `lookup`, so the address it dials is the one that
 * was checked (DNS can change between creation and delivery, or between a check and a connect).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import { AppError } from "../errors.js";
import { classifyAddress, isPrivateClass, type AddressClass } from "./address-ranges.js";

export const maxWebhookUrlLength = 2048;

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (the default is the system resolver). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface AddressPolicyOptions {
  /** The operator's flag: also allow loopback, link-local and private addresses. */
  readonly allowPrivate: boolean;
  readonly resolve?: Resolver;
  /** How long a name may take to resolve before the answer is `unavailable` (default 5 s). */
  readonly resolveTimeoutMs?: number;
}

/** The callback shape `net.connect({ lookup })` calls, with and without `all`. */
export type SocketLookup = (
  hostname: string,
  options: { family?: number | string; all?: boolean },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface AddressPolicy {
  readonly allowPrivate: boolean;
  /** Why `address` (an IP literal) may not be dialled, or null when it may. */
  refusal(address: string): string | null;
  /** Resolves `hostname` (a name or an IP literal) and checks every address; throws AppError. */
  resolveChecked(hostname: string): Promise<readonly ResolvedAddress[]>;
  /** Parses and checks a webhook URL as `webhook.create` receives it; throws `invalid_argument`. */
  checkUrl(text: string): Promise<URL>;
  /** For `http.request({ lookup })`: resolves through `resolveChecked`, so only checked addresses are dialled. */
  readonly lookup: SocketLookup;
}

const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function describeClass(c: AddressClass): string {
  return c.replace("_", "-");
}

function invalidUrl(message: string): AppError {
  return new AppError("invalid_argument", `url: ${message}`, [{ path: "url", message }]);
}

/** The URL's host without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Syntax rules only (no resolution): what a stored webhook URL must satisfy. */
export function parseWebhookUrl(text: string): URL {
  if (text.length > maxWebhookUrlLength) throw invalidUrl(`longer than ${maxWebhookUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidUrl("not an absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidUrl(`scheme ${url.protocol.replace(/:$/, "")} is not allowed (http or https only)`);
  // A password in the URL would be shown by webhook.list; the signature is the credential.
  if (url.username !== "" || url.password !== "") throw invalidUrl("credentials in the URL are not allowed");
  if (urlHost(url) === "") throw invalidUrl("no host");
  return url;
}

export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const resolve = options.resolve ?? systemResolver;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
  /** The resolver, bounded: a DNS server that does not answer must not hold a caller for ever. */
  const resolveBounded = (hostname: string): Promise<readonly ResolvedAddress[]> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error("resolver timeout"), { code: "ETIMEOUT" })), resolveTimeoutMs);
    });
    return Promise.race([resolve(hostname), late]).finally(() => clearTimeout(timer));
  };

  /** "a loopback address" when `address` may not be dialled, else null. */
  const refusedAs = (address: string): string | null => {
    const cls = classifyAddress(address);
    if (cls === null) return "not an IP address";
    if (cls === "public") return null;
    if (isPrivateClass(cls) && options.allowPrivate) return null;
    return `a ${describeClass(cls)} address`;
  };
  const refusal = (address: string): string | null => {
    const as = refusedAs(address);
    return as === null ? null : `${address} is ${as}`;
  };

  const resolveChecked = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    const literal = classifyAddress(hostname);
    let found: readonly ResolvedAddress[];
    if (literal !== null) {
      found = [{ address: hostname, family: hostname.includes(":") ? 6 : 4 }];
    } else {
      try {
        found = await resolveBounded(hostname);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_NONAME") throw invalidUrl(`${hostname} does not resolve`);
        throw new AppError("unavailable", `cannot resolve ${hostname} now (${typeof code === "string" ? code : "resolver error"}); retry`);
      }
      if (found.length === 0) throw invalidUrl(`${hostname} does not resolve`);
    }
    // Every address must pass: a name that also resolves to a refused address could be dialled there.
    for (const a of found) {
      const as = refusedAs(a.address);
      if (as === null) continue;
      throw invalidUrl(literal !== null ? `refused: ${a.address} is ${as}` : `refused: ${hostname} resolves to ${a.address}, ${as}`);
    }
    return found;
  };

  const lookup: SocketLookup = (hostname, opts, callback) => {
    const family = opts.family === 6 || opts.family === "IPv6" ? 6 : opts.family === 4 || opts.family === "IPv4" ? 4 : 0;
    resolveChecked(hostname).then(
      (addresses) => {
        const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
        const first = usable[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${family} address`);
          err.code = "ENOTFOUND";
          callback(err, "", 0);
          return;
        }
        if (opts.all) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, first.address, first.family);
      },
      (err: unknown) => callback(AppError.from(err) as unknown as NodeJS.ErrnoException, "", 0),
    );
  };

  return {
    allowPrivate: options.allowPrivate,
    refusal,
    resolveChecked,
    async checkUrl(text) {
      const url = parseWebhookUrl(text);
      await resolveChecked(urlHost(url));
      return url;
    },
    lookup,
  };
}
