/**
 * A Crossbar-shaped dynamic authenticator over the static principals file, so a hosting provider
 * running Crossbar.io can keep one principals file: `authenticate(realm, authid, details)` answers
 * the principal (role, authid, extra = { tenant }) and, for wampcra and cryptosign, the secret or
 * public key Crossbar needs to run the challenge itself.
 */
import { timingSafeEqual } from "node:crypto";
import autobahn from "autobahn";
import type { StaticPrincipal } from "../router/index.js";

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function deny(message: string): never {
  throw new autobahn.Error("wamp.error.not_authorized", [message]);
}

export function createPrincipalAuthenticator(principals: readonly StaticPrincipal[]) {
  return (args: unknown[]): Record<string, unknown> => {
    const [, authid, details] = args as [unknown, unknown, Record<string, unknown> | undefined];
    const method = typeof details?.["authmethod"] === "string" ? details["authmethod"] : "";
    const extraOf = (p: StaticPrincipal) => ({ ...(p.extra ?? {}), ...(p.tenant ? { tenant: p.tenant } : {}) });
    if (method === "cryptosign") {
      const authextra = (details?.["authextra"] ?? {}) as Record<string, unknown>;
      const pubkey = typeof authextra["pubkey"] === "string" ? authextra["pubkey"].toLowerCase() : "";
      const p = principals.find((q) => q.pubkey?.toLowerCase() === pubkey && (authid == null || q.authid === authid));
      if (!p?.pubkey) deny("unknown public key");
      return { role: p.role, authid: p.authid, pubkey: p.pubkey, extra: extraOf(p) };
    }
    const p = principals.find((q) => q.authid === authid);
    if (!p) deny("unknown principal");
    if (method === "ticket") {
      const ticket = typeof details?.["ticket"] === "string" ? details["ticket"] : "";
      if (!p.ticket || !sameText(ticket, p.ticket)) deny("invalid ticket");
      return { role: p.role, authid: p.authid, extra: extraOf(p) };
    }
    if (method === "wampcra") {
      if (!p.secret) deny("no secret for this principal");
      return {
        role: p.role,
        authid: p.authid,
        secret: p.secret,
        ...(p.salt ? { salt: p.salt, iterations: p.iterations ?? 1000, keylen: p.keylen ?? 32 } : {}),
        extra: extraOf(p),
      };
    }
    deny(`authentication method ${JSON.stringify(method)} is not offered`);
  };
}
