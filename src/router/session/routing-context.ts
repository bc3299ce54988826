import type { Logger } from "pino";
import type { AppError } from "../../errors.js";
import type { WampErrorReply } from "../errors.js";
import type { UriCheck } from "../ids.js";
import type { Peer } from "../peer.js";
import type { Realm } from "../realm/realm.js";

/** What routing an established session's requests needs to know of the session and the router. */
export interface RoutingContext {
  readonly peer: Peer;
  readonly realm: Realm;
  readonly uriCheck: UriCheck;
  readonly logger: Logger;
  callPayloadError(problem: AppError): WampErrorReply;
  /** Ends the session with `wamp.error.protocol_violation`. */
  violation(reason: string): void;
}
