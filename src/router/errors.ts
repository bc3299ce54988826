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
  runtimeError: "wamp.error.runtime_error",
  closeRealm: "wamp.close.close_realm",
  goodbyeAndOut: "wamp.close.goodbye_and_out",
  systemShutdown: "wamp.close.system_shutdown",
} as const;

/**
 * A WAMP error reply as data: what an ERROR message carries after its request. The router never
 * throws these; it sends them, or hands them back as a procedure outcome.
 */
export interface WampErrorReply {
  readonly uri: string;
  readonly args?: WampList;
  readonly kwargs?: WampDict;
}

/** What a procedure call made by or through the router came to. */
export type ProcedureOutcome =
  | { readonly kind: "result"; readonly args: WampList; readonly kwargs: WampDict }
  | { readonly kind: "error"; readonly error: WampErrorReply };

/**
 * The WAMP error a thrown value carries, if any: autobahn's `Error` (and Python's
 * `ApplicationError`, which Crossbar's hooks raise) hold the URI in `error`. This is how an
 * in-process hook written for Crossbar denies with its own URI.
 */
export function carriedWampError(thrown: unknown): WampErrorReply | undefined {
  if (typeof thrown !== "object" || thrown === null) return undefined;
  const { error, args, kwargs } = thrown as { error?: unknown; args?: unknown; kwargs?: unknown };
  if (typeof error !== "string" || error === "") return undefined;
  return {
    uri: error,
    ...(Array.isArray(args) ? { args } : {}),
    ...(typeof kwargs === "object" && kwargs !== null && !Array.isArray(kwargs) ? { kwargs: kwargs as WampDict } : {}),
  };
}
