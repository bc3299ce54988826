import type { WampDict } from "../messages.js";

export type AuthMethod = "anonymous" | "ticket" | "wampcra" | "cryptosign";
export type Action = "call" | "register" | "publish" | "subscribe";

/** A principal from the static config file (a JSON array of these). */
export interface StaticPrincipal {
  readonly authid: string;
  readonly role: string;
  /** Put into authextra as `{ tenant }`. */
  readonly tenant?: string;
  readonly extra?: WampDict;
  readonly ticket?: string;
  /** wampcra secret; with `salt`, the PBKDF2 parameters autobahn uses to derive the key. */
  readonly secret?: string;
  readonly salt?: string;
  readonly iterations?: number;
  readonly keylen?: number;
  /** cryptosign Ed25519 public key, hex. */
  readonly pubkey?: string;
}

/** What a Crossbar dynamic authenticator returns: a role, or a principal dict. */
export type AuthenticatorResult =
  | string
  | {
      readonly role?: string;
      readonly authid?: string;
      readonly realm?: string;
      readonly extra?: WampDict;
      readonly secret?: string;
      readonly salt?: string;
      readonly iterations?: number;
      readonly keylen?: number;
      readonly pubkey?: string;
    };

/**
 * Crossbar's `authenticate(realm, authid, details)`. `details` holds `session`, `transport`,
 * `authmethod`, `authextra`, and for ticket the client's `ticket`. To deny, throw an error that
 * carries a WAMP URI in `error` (autobahn's `Error`, as the same function exposed to Crossbar would
 * raise): the join is aborted with that URI and its first argument as message. An AppError
 * `not_authorized` aborts with `wamp.error.not_authorized`, anything else with
 * `wamp.error.authentication_failed`.
 */
export type AuthenticatorFn = (
  realm: string,
  authid: string | undefined,
  details: WampDict,
) => AuthenticatorResult | Promise<AuthenticatorResult>;

/** Crossbar's authorizer answer: a bool or `{ allow, disclose?, cache?, validate? }`. */
export type AuthorizerResult = boolean | { readonly allow: boolean; readonly disclose?: boolean; readonly cache?: boolean; readonly validate?: unknown };

/**
 * Crossbar's `authorize(session, uri, action, options)`; `session` has `session`, `authid`,
 * `authrole`, `authmethod`, `authprovider`, `authextra`, `transport`.
 */
export type AuthorizerFn = (
  session: WampDict,
  uri: string,
  action: Action,
  options: WampDict,
) => AuthorizerResult | Promise<AuthorizerResult>;

/** A dynamic authenticator/authorizer registered as a WAMP procedure. */
export interface ProcedureRef {
  readonly procedure: string;
  /** Realm where it is registered (authenticator only; default: the realm being joined). */
  readonly realm?: string;
}

/** The identity a session is welcomed with. */
export interface Welcome {
  readonly realm: string;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: AuthMethod;
  readonly authprovider: string;
  readonly authextra: WampDict;
}
