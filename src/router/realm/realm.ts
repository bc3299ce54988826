import type { AppError } from "../../errors.js";
import { createAuthorizer, type Authorizer, type RoleAuthorizer } from "../auth/authorize.js";
import type { WampErrorReply } from "../errors.js";
import { sessionDetails, type Peer } from "../peer.js";
import type { PrefixMode } from "../uri-table.js";
import { createBroker, type Broker } from "./broker.js";
import { createDealer, type Dealer } from "./dealer.js";
import { addSessionMeta } from "./session-meta.js";

export interface RealmOptions {
  readonly name: string;
  readonly prefixMode: PrefixMode;
  readonly defaultCallTimeoutMs: number;
  authorizerFor(authrole: string): RoleAuthorizer;
  /** Timeout of calls the router makes to a dynamic authorizer. */
  readonly internalCallTimeoutMs: number;
  callPayloadError(problem: AppError): WampErrorReply;
}

/** A routing realm: its sessions, dealer, broker, authorizer and session meta API. */
export interface Realm {
  readonly name: string;
  readonly sessions: ReadonlyMap<number, Peer>;
  readonly dealer: Dealer;
  readonly broker: Broker;
  readonly authorizer: Authorizer;
  join(peer: Peer): void;
  leave(peer: Peer): void;
}

export function createRealm(options: RealmOptions): Realm {
  const sessions = new Map<number, Peer>();
  const dealer = createDealer({
    realm: options.name,
    prefixMode: options.prefixMode,
    defaultCallTimeoutMs: options.defaultCallTimeoutMs,
    callPayloadError: options.callPayloadError,
  });
  const broker = createBroker(options.prefixMode);
  const authorizer = createAuthorizer(options.name, {
    authorizerFor: options.authorizerFor,
    callProcedure: (procedure, args) => dealer.callInternal(procedure, args, {}, options.internalCallTimeoutMs),
  });
  addSessionMeta(dealer, sessions);
  const meta = (topic: string, args: unknown[]): void => void broker.publish(undefined, { topic, options: {}, args, kwargs: undefined, disclose: false });

  return {
    name: options.name,
    sessions,
    dealer,
    broker,
    authorizer,
    join(peer) {
      sessions.set(peer.session, peer);
      meta("wamp.session.on_join", [sessionDetails(peer)]);
    },
    leave(peer) {
      if (!sessions.delete(peer.session)) return;
      dealer.removePeer(peer);
      broker.removePeer(peer);
      meta("wamp.session.on_leave", [peer.session, peer.authid, peer.authrole]);
    },
  };
}
