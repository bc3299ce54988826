/**
 * The handshake's own logic: HELLO to the first authentication step, the router's announced
 * roles, the WELCOME details. The session state machine (session.ts) applies the outcomes.
 */
import { startAuthentication, type AuthContext, type AuthOutcome, type Denial } from "../auth/authenticate.js";
import type { Welcome } from "../auth/types.js";
import { ErrorUri } from "../errors.js";
import { isValidUri, type UriCheck } from "../ids.js";
import { isDict, isString, type WampDict } from "../messages.js";
import type { TransportInfo } from "../peer.js";
import type { InboundMessage } from "../wire/inbound-message.js";

/** Features the router announces in WELCOME: exactly what it implements. */
export const routerRoles = {
  broker: {
    features: {
      publisher_identification: true,
      publisher_exclusion: true,
      subscriber_blackwhite_listing: true,
      pattern_based_subscription: true,
      session_meta_api: true,
    },
  },
  dealer: {
    features: {
      caller_identification: true,
      progressive_call_results: true,
      call_canceling: true,
      call_timeout: true,
      pattern_based_registration: true,
      session_meta_api: true,
    },
  },
} as const;

export interface HandshakeContext {
  readonly realmNames: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  readonly uriCheck: UriCheck;
  readonly auth: Omit<AuthContext, "realmExists">;
}

type Hello = Extract<InboundMessage, { kind: "hello" }>;

/** HELLO → a challenge, a welcome or a denial; synchronous only for a realm it refuses at once. */
export function beginAuthentication(hello: Hello, session: number, transport: TransportInfo, ctx: HandshakeContext): Denial | Promise<AuthOutcome> {
  if (!isValidUri(hello.realm, ctx.uriCheck)) return { kind: "abort", reason: ErrorUri.protocolViolation, message: `invalid realm URI '${hello.realm}'` };
  if (!ctx.realmNames.has(hello.realm)) return { kind: "abort", reason: ErrorUri.noSuchRealm, message: `no realm '${hello.realm}'` };
  const { details } = hello;
  return startAuthentication(
    {
      realm: hello.realm,
      authid: isString(details.authid) ? details.authid : undefined,
      authmethods: Array.isArray(details.authmethods) ? details.authmethods.filter(isString) : ["anonymous"],
      authextra: isDict(details.authextra) ? details.authextra : {},
      session,
      transport,
    },
    { ...ctx.auth, realmExists: (name) => ctx.realmNames.has(name) },
  );
}

export function welcomeDetails(w: Welcome): WampDict {
  const details: WampDict = {
    realm: w.realm,
    authid: w.authid,
    authrole: w.authrole,
    authmethod: w.authmethod,
    authprovider: w.authprovider,
    roles: routerRoles,
  };
  if (Object.keys(w.authextra).length > 0) details.authextra = w.authextra;
  return details;
}
