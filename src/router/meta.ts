import { ErrorUri, WampError } from "./errors.js";
import { isId } from "./messages.js";
import { sessionDetails, type Peer } from "./peer.js";
import type { Realm } from "./realm.js";

/** `wamp.session.count/list/get` (the on_join/on_leave events are published by Realm). */
export function registerSessionMeta(realm: Realm): void {
  const filtered = (args: unknown[]): Peer[] => {
    const roles = args[0];
    const all = [...realm.sessions.values()];
    return Array.isArray(roles) ? all.filter((p) => roles.includes(p.authrole)) : all;
  };
  realm.dealer.builtins.set("wamp.session.count", (_caller, args) => ({ args: [filtered(args).length] }));
  realm.dealer.builtins.set("wamp.session.list", (_caller, args) => ({ args: [filtered(args).map((p) => p.session)] }));
  realm.dealer.builtins.set("wamp.session.get", (_caller, args) => {
    const id = args[0];
    const peer = isId(id) ? realm.sessions.get(id) : undefined;
    if (peer === undefined) throw new WampError(ErrorUri.noSuchSession, [`no session ${String(id)}`]);
    return { args: [sessionDetails(peer)] };
  });
}
