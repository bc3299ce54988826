import { createAuthorizer, type Authorizer, type RoleAuthorizer } from "./auth/authorize.js";
import { Broker } from "./broker.js";
import { Dealer } from "./dealer.js";
import { registerSessionMeta } from "./meta.js";
import { sessionDetails, type Peer } from "./peer.js";
import type { PrefixMode } from "./uri-table.js";

export interface RealmOptions {
  readonly name: string;
  readonly prefixMode: PrefixMode;
  readonly defaultCallTimeoutMs: number;
  authorizerFor(authrole: string): RoleAuthorizer;
  /** Timeout of calls the router makes to a dynamic authorizer. */
  readonly internalCallTimeoutMs: number;
}

/** A routing realm: its sessions, dealer, broker, authorizer and session meta API. */
export class Realm {
  readonly sessions = new Map<number, Peer>();
  readonly dealer: Dealer;
  readonly broker: Broker;
  readonly authorizer: Authorizer;

  constructor(readonly options: RealmOptions) {
    this.dealer = new Dealer({ realm: options.name, prefixMode: options.prefixMode, defaultCallTimeoutMs: options.defaultCallTimeoutMs });
    this.broker = new Broker(options.prefixMode);
    this.authorizer = createAuthorizer(options.name, {
      authorizerFor: options.authorizerFor,
      callProcedure: async (procedure, args) => (await this.dealer.callInternal(procedure, args, {}, options.internalCallTimeoutMs)).args[0],
    });
    registerSessionMeta(this);
  }

  get name(): string {
    return this.options.name;
  }

  join(peer: Peer): void {
    this.sessions.set(peer.session, peer);
    this.broker.publish(undefined, { topic: "wamp.session.on_join", options: {}, args: [sessionDetails(peer)], kwargs: undefined, disclose: false });
  }

  leave(peer: Peer): void {
    if (!this.sessions.delete(peer.session)) return;
    this.dealer.removePeer(peer);
    this.broker.removePeer(peer);
    this.broker.publish(undefined, {
      topic: "wamp.session.on_leave",
      options: {},
      args: [peer.session, peer.authid, peer.authrole],
      kwargs: undefined,
      disclose: false,
    });
  }
}
