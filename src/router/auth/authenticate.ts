import { AppError } from "../../errors.js";
import { carriedWampError, ErrorUri, type ProcedureOutcome } from "../errors.js";
import { isDict, type WampDict } from "../messages.js";
import type { TransportInfo } from "../peer.js";
import { craChallenge, craSignature, cryptosignChallenge, deriveCraKey, safeEqual, verifyCryptosign } from "./credentials.js";
import type { AuthenticatorFn, AuthMethod, ProcedureRef, StaticPrincipal, Welcome } from "./types.js";

export interface AuthConfig {
  readonly principals: readonly StaticPrincipal[];
  /** Enabled challenge methods. */
  readonly methods: readonly AuthMethod[];
  /** Anonymous access (only when configured). */
  readonly anonymous: { readonly role: string } | undefined;
  readonly authenticator: AuthenticatorFn | ProcedureRef | undefined;
  /** In-process credentials for role `trusted` (authid → ticket), see Router.issueTrustedTicket. */
  readonly trustedTickets: ReadonlyMap<string, string>;
}

export interface HelloInfo {
  readonly realm: string;
  readonly authid: string | undefined;
  readonly authmethods: readonly string[];
  readonly authextra: WampDict;
  readonly session: number;
  readonly transport: TransportInfo;
}

export interface Challenge {
  readonly kind: "challenge";
  readonly method: AuthMethod;
  readonly extra: WampDict;
  verify(signature: string, extra: WampDict): Promise<AuthOutcome>;
}

export interface Denial {
  readonly kind: "abort";
  readonly reason: string;
  readonly message: string;
}

export type AuthOutcome = { readonly kind: "welcome"; readonly welcome: Welcome } | Challenge | Denial;

export interface AuthContext {
  readonly config: AuthConfig;
  /** Calls a procedure registered in `realm` (dynamic authenticator). */
  callProcedure(realm: string, procedure: string, args: unknown[]): Promise<ProcedureOutcome>;
  realmExists(realm: string): boolean;
}

interface ResolvedPrincipal {
  readonly authid: string | undefined;
  readonly role: string;
  readonly realm: string | undefined;
  readonly extra: WampDict;
  readonly provider: string;
  readonly secret?: string;
  readonly salt?: string;
  readonly iterations?: number;
  readonly keylen?: number;
  readonly pubkey?: string;
  readonly ticket?: string;
}

const deny = (message: string, reason: string = ErrorUri.notAuthorized): Denial => ({ kind: "abort", reason, message });
const isDenial = (value: ResolvedPrincipal | Denial): value is Denial => "kind" in value && value.kind === "abort";

export async function startAuthentication(hello: HelloInfo, ctx: AuthContext): Promise<AuthOutcome> {
  const { config } = ctx;
  for (const method of hello.authmethods) {
    if (method === "anonymous") {
      if (config.anonymous === undefined) continue;
      return welcome(hello, ctx, "anonymous", {
        authid: hello.authid ?? `anonymous-${hello.session}`,
        role: config.anonymous.role,
        realm: undefined,
        extra: {},
        provider: "static",
      });
    }
    if (method !== "ticket" && method !== "wampcra" && method !== "cryptosign") continue;
    if (!config.methods.includes(method)) continue;
    try {
      if (method === "ticket" && canTicket(hello, config)) return ticketChallenge(hello, ctx);
      if (method === "wampcra" && canCra(hello, config)) return await craStart(hello, ctx);
      if (method === "cryptosign" && canCryptosign(hello, config)) return await cryptosignStart(hello, ctx);
    } catch (err) {
      return abortFor(err);
    }
  }
  return deny(`cannot authenticate using any of the offered authmethods [${hello.authmethods.join(", ")}]`, ErrorUri.noAuthMethod);
}

function staticPrincipal(p: StaticPrincipal): ResolvedPrincipal {
  const extra: WampDict = { ...(p.extra ?? {}) };
  if (p.tenant !== undefined) extra.tenant = p.tenant;
  return { ...p, realm: undefined, extra, provider: "static" };
}

function canTicket(hello: HelloInfo, config: AuthConfig): boolean {
  if (config.authenticator !== undefined) return true;
  if (hello.authid === undefined) return false;
  return config.trustedTickets.has(hello.authid) || config.principals.some((p) => p.authid === hello.authid && p.ticket !== undefined);
}

function canCra(hello: HelloInfo, config: AuthConfig): boolean {
  if (hello.authid === undefined) return false;
  return config.authenticator !== undefined || config.principals.some((p) => p.authid === hello.authid && p.secret !== undefined);
}

function clientPubkey(hello: HelloInfo): string | undefined {
  const key = hello.authextra.pubkey;
  return typeof key === "string" && /^[0-9a-fA-F]{64}$/.test(key) ? key.toLowerCase() : undefined;
}

function canCryptosign(hello: HelloInfo, config: AuthConfig): boolean {
  const pubkey = clientPubkey(hello);
  if (pubkey === undefined) return false;
  return config.authenticator !== undefined || config.principals.some((p) => p.pubkey?.toLowerCase() === pubkey);
}

function ticketChallenge(hello: HelloInfo, ctx: AuthContext): AuthOutcome {
  return {
    kind: "challenge",
    method: "ticket",
    extra: {},
    verify: async (ticket) => {
      const authid = hello.authid;
      const trusted = authid === undefined ? undefined : ctx.config.trustedTickets.get(authid);
      if (trusted !== undefined && authid !== undefined) {
        if (!safeEqual(ticket, trusted)) return deny("invalid ticket");
        return welcome(hello, ctx, "ticket", { authid, role: "trusted", realm: undefined, extra: {}, provider: "router" });
      }
      const known = ctx.config.principals.find((p) => p.authid === authid && p.ticket !== undefined);
      if (known?.ticket !== undefined) {
        if (!safeEqual(ticket, known.ticket)) return deny("ticket in static WAMP-Ticket authentication is invalid");
        return welcome(hello, ctx, "ticket", staticPrincipal(known));
      }
      try {
        const principal = await dynamicPrincipal(hello, ctx, "ticket", { ticket });
        return isDenial(principal) ? principal : welcome(hello, ctx, "ticket", principal);
      } catch (err) {
        return abortFor(err);
      }
    },
  };
}

async function craStart(hello: HelloInfo, ctx: AuthContext): Promise<AuthOutcome> {
  const known = ctx.config.principals.find((p) => p.authid === hello.authid && p.secret !== undefined);
  const principal = known ? staticPrincipal(known) : await dynamicPrincipal(hello, ctx, "wampcra", {});
  if (isDenial(principal)) return principal;
  if (principal.secret === undefined) return deny("authenticator returned no secret for wampcra", ErrorUri.authenticationFailed);
  const authid = principal.authid ?? hello.authid ?? "";
  const challenge = craChallenge({ authid, authrole: principal.role, authprovider: principal.provider, session: hello.session });
  const key = principal.salt !== undefined ? deriveCraKey(principal.secret, principal.salt, principal.iterations, principal.keylen) : principal.secret;
  const extra: WampDict = { challenge };
  if (principal.salt !== undefined) {
    extra.salt = principal.salt;
    extra.iterations = principal.iterations ?? 1000;
    extra.keylen = principal.keylen ?? 32;
  }
  return {
    kind: "challenge",
    method: "wampcra",
    extra,
    verify: async (signature) => {
      if (!safeEqual(signature, craSignature(key, challenge))) return deny("WAMP-CRA signature is invalid");
      return welcome(hello, ctx, "wampcra", principal);
    },
  };
}

async function cryptosignStart(hello: HelloInfo, ctx: AuthContext): Promise<AuthOutcome> {
  const pubkey = clientPubkey(hello) ?? "";
  const known = ctx.config.principals.find(
    (p) => p.pubkey?.toLowerCase() === pubkey && (hello.authid === undefined || p.authid === hello.authid),
  );
  const principal = known ? staticPrincipal(known) : await dynamicPrincipal(hello, ctx, "cryptosign", {});
  if (isDenial(principal)) return principal;
  const expected = principal.pubkey?.toLowerCase();
  if (expected === undefined || expected !== pubkey) return deny("public key not authorized for this principal");
  const challenge = cryptosignChallenge();
  return {
    kind: "challenge",
    method: "cryptosign",
    extra: { challenge, channel_binding: null },
    verify: async (signature) => {
      if (!verifyCryptosign(signature, challenge, expected)) return deny("cryptosign signature is invalid");
      return welcome(hello, ctx, "cryptosign", principal);
    },
  };
}

/** The authenticator's principal, or its denial; an in-process authenticator may also throw (see abortFor). */
async function dynamicPrincipal(hello: HelloInfo, ctx: AuthContext, method: AuthMethod, more: WampDict): Promise<ResolvedPrincipal | Denial> {
  const authenticator = ctx.config.authenticator;
  if (authenticator === undefined) return deny(`no principal '${hello.authid ?? ""}' for ${method}`);
  const details: WampDict = {
    session: hello.session,
    transport: { type: hello.transport.type, protocol: hello.transport.protocol, peer: hello.transport.peer },
    authmethod: method,
    authextra: hello.authextra,
    ...more,
  };
  if (hello.authid !== undefined) details.authid = hello.authid;
  let answer: unknown;
  if (typeof authenticator === "function") {
    answer = await authenticator(hello.realm, hello.authid, details);
  } else {
    const outcome = await ctx.callProcedure(authenticator.realm ?? hello.realm, authenticator.procedure, [hello.realm, hello.authid ?? null, details]);
    // Crossbar: the authenticator raising an error aborts the join with that URI and message.
    if (outcome.kind === "error") return denialFor(outcome.error.uri, outcome.error.args);
    answer = outcome.args[0];
  }
  if (typeof answer === "string") return { authid: undefined, role: answer, realm: undefined, extra: {}, provider: "dynamic" };
  if (!isDict(answer)) return deny("authenticator returned neither a role nor a principal", ErrorUri.authenticationFailed);
  const role = answer.role;
  if (typeof role !== "string" || role === "") return deny("authenticator returned no role", ErrorUri.authenticationFailed);
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
  const principal: ResolvedPrincipal = {
    authid: str(answer.authid),
    role,
    realm: str(answer.realm),
    extra: isDict(answer.extra) ? answer.extra : {},
    provider: "dynamic",
  };
  const secret = str(answer.secret);
  const salt = str(answer.salt);
  const iterations = int(answer.iterations);
  const keylen = int(answer.keylen);
  const pubkey = str(answer.pubkey);
  return {
    ...principal,
    ...(secret !== undefined ? { secret } : {}),
    ...(salt !== undefined ? { salt } : {}),
    ...(iterations !== undefined ? { iterations } : {}),
    ...(keylen !== undefined ? { keylen } : {}),
    ...(pubkey !== undefined ? { pubkey } : {}),
  };
}

function welcome(hello: HelloInfo, ctx: AuthContext, method: AuthMethod, principal: ResolvedPrincipal): AuthOutcome {
  const realm = principal.realm ?? hello.realm;
  if (!ctx.realmExists(realm)) return deny(`no realm '${realm}'`, ErrorUri.noSuchRealm);
  return {
    kind: "welcome",
    welcome: {
      realm,
      authid: principal.authid ?? hello.authid ?? `${method}-${hello.session}`,
      authrole: principal.role,
      authmethod: method,
      authprovider: principal.provider,
      authextra: principal.extra,
    },
  };
}

const denialFor = (uri: string, args: readonly unknown[] | undefined): Denial => deny(typeof args?.[0] === "string" ? args[0] : uri, uri);

/**
 * What an in-process authenticator's throw means: an error carrying a WAMP URI (autobahn's
 * `Error`, as a hook written for Crossbar raises) aborts with that URI; an AppError with
 * `not_authorized` or `authentication_failed`; anything else with `authentication_failed`.
 */
function abortFor(err: unknown): Denial {
  const wamp = carriedWampError(err);
  if (wamp !== undefined) return denialFor(wamp.uri, wamp.args);
  if (AppError.is(err, "not_authorized")) return deny(err.message, ErrorUri.notAuthorized);
  return deny(err instanceof Error ? err.message : String(err), ErrorUri.authenticationFailed);
}
