import type { Challenge } from "../auth/authenticate.js";
import type { Welcome } from "../auth/types.js";
import type { WampDict } from "../messages.js";
import type { Peer } from "../peer.js";
import type { Realm } from "../realm/realm.js";
import type { RoutingContext } from "./routing-context.js";

/**
 * The states of a WebSocket session, each with only its own data. Every change goes through
 * setState (session.ts), which also runs the exit actions: the handshake deadline ends with the
 * handshake, the realm is left when an established session closes.
 */
export type SessionState =
  /** Connected; the first message must be HELLO. */
  | { readonly kind: "awaiting-hello"; readonly deadline: NodeJS.Timeout }
  /** HELLO or AUTHENTICATE is being checked (possibly by a dynamic authenticator). */
  | { readonly kind: "authenticating"; readonly deadline: NodeJS.Timeout; readonly roles: WampDict }
  /** CHALLENGE sent; the next message must be AUTHENTICATE. */
  | { readonly kind: "challenged"; readonly deadline: NodeJS.Timeout; readonly roles: WampDict; readonly challenge: Challenge }
  /** Authenticated, waiting until the router admits sessions (RouterOptions.holdUntilAdmitted). */
  | { readonly kind: "held"; readonly deadline: NodeJS.Timeout; readonly roles: WampDict; readonly welcome: Welcome }
  /** WELCOME sent; routing. */
  | { readonly kind: "established"; readonly realm: Realm; readonly peer: Peer; readonly routing: RoutingContext }
  /** The router said GOODBYE and waits for the client's (RouterOptions: shutdown). */
  | { readonly kind: "closing"; readonly realm: Realm; readonly peer: Peer; readonly timer: NodeJS.Timeout }
  | { readonly kind: "closed" };

export type HandshakeState = Extract<SessionState, { deadline: NodeJS.Timeout }>;

export const inHandshake = (state: SessionState): state is HandshakeState => "deadline" in state;
