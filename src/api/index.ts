/** The WAMP edge of the deployment API: procedures, topics, errors, authorization. */
export { registerApi, registerAuthorizer, type ApiHandle, type ApiLogger, type RegisterApiOptions } from "./register.js";
export { createEventPublisher, type EventPublisher, type EventPublisherOptions } from "./publisher.js";
export {
  authorize,
  createAuthorizer,
  topicIsTenants,
  type AuthorizationDecision,
  type AuthorizeOptions,
  type AuthorizerSession,
  type WampAction,
} from "./authorize.js";
export { identifyCaller, resolveTenant, type CallerIdentity, type SessionInfo, type SessionLookup } from "./caller.js";
export { toWampError, fromWampError, errorUri, apiErrorCodes, type ApiErrorCode } from "./wamp-errors.js";
export { procedureUris, eventsTopic, logsTopic } from "./uris.js";
