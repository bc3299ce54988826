import { ErrorUri } from "../errors.js";
import { isId } from "../messages.js";
import { sessionDetails, type Peer } from "../peer.js";
import type { Dealer } from "./dealer.js";

/**
 * `wamp.session.count/list/get` over a realm's joined sessions (the on_join/on_leave events are
 * published by the realm). Takes only what it reads, so it knows nothing of the realm itself.
 */
export function addSessionMeta(dealer: Dealer, sessions: ReadonlyMap<number, Peer>): void {
  const filtered = (args: unknown[]): Peer[] => {
    const roles = args[0];
    const all = [...sessions.values()];
    return Array.isArray(roles) ? all.filter((p) => roles.includes(p.authrole)) : all;
  };
  dealer.addBuiltin("wamp.session.count", (_caller, args) => ({ kind: "result", args: [filtered(args).length], kwargs: {} }));
  dealer.addBuiltin("wamp.session.list", (_caller, args) => ({ kind: "result", args: [filtered(args).map((p) => p.session)], kwargs: {} }));
  dealer.addBuiltin("wamp.session.get", (_caller, args) => {
    const id = args[0];
    const peer = isId(id) ? sessions.get(id) : undefined;
    if (peer === undefined) return { kind: "error", error: { uri: ErrorUri.noSuchSession, args: [`no session ${String(id)}`] } };
    return { kind: "result", args: [sessionDetails(peer)], kwargs: {} };
  });
}
