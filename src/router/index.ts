/**
 * Embedded WAMP v2 router (basic + parts of the advanced profile) with Crossbar-shaped
 * authentication and authorization. docs/wamp-router.md describes its scope and choices.
 */
export {
  createRouter,
  type AuthorizersByRole,
  type AuthorizerSpec,
  type ListenOptions,
  type Router,
  type RouterOptions,
  type TrustedCredential,
} from "./router.js";
export { ErrorUri, type WampErrorReply } from "./errors.js";
export type { LocalEndpoint, LocalEventHandler, LocalInvocationDetails, LocalRegistration, LocalSession, LocalSubscription } from "./session/local-session.js";
export {
  createStaticAuthorizer,
  fediversityAuthorizationRules,
  type AuthorizationRule,
  type FediversityRulesOptions,
} from "./auth/static-authorizer.js";
export { loadPrincipalsFile, parsePrincipals } from "./auth/principals.js";
export { deriveCraKey, craSignature } from "./auth/credentials.js";
export type {
  Action,
  AuthenticatorFn,
  AuthenticatorResult,
  AuthMethod,
  AuthorizerFn,
  AuthorizerResult,
  ProcedureRef,
  StaticPrincipal,
} from "./auth/types.js";
export type { PrefixMode } from "./uri-table.js";
export type { SerializerName } from "./serializers/index.js";
