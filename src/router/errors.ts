import type { WampDict, WampList } from "./messages.js";

/** Error URIs the router emits (WAMP basic and advanced profile). */
export const ErrorUri = {
  protocolViolation: "wamp.error.protocol_violation",
  noSuchRealm: "wamp.error.no_such_realm",
  noAuthMethod: "wamp.error.no_auth_method",
  authenticationFailed: "wamp.error.authentication_failed",
  notAuthorized: "wamp.error.not_authorized",
  authorizationFailed: "wamp.error.authorization_failed",
  invalidUri: "wamp.error.invalid_uri",
  invalidArgument: "wamp.error.invalid_argument",
  noSuchProcedure: "wamp.error.no_such_procedure",
  procedureAlreadyExists: "wamp.error.procedure_already_exists",
  noSuchRegistration: "wamp.error.no_such_registration",
  noSuchSubscription: "wamp.error.no_such_subscription",
  noSuchSession: "wamp.error.no_such_session",
  canceled: "wamp.error.canceled",
  timeout: "wamp.error.timeout",
  closeRealm: "wamp.close.close_realm",
  goodbyeAndOut: "wamp.close.goodbye_and_out",
  systemShutdown: "wamp.close.system_shutdown",
} as const;

/**
 * A WAMP-level error: URI plus optional args/kwargs, as received in an ERROR message or thrown by
 * an in-process authenticator/authorizer/meta procedure.
 */
export class WampError extends Error {
  override readonly name = "WampError";
  constructor(
    readonly uri: string,
    readonly args: WampList = [],
    readonly kwargs: WampDict = {},
  ) {
    super(typeof args[0] === "string" ? `${uri}: ${args[0]}` : uri);
  }
}
