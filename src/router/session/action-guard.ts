import type { AuthorizationOutcome } from "../auth/authorize.js";
import type { Action } from "../auth/types.js";
import { ErrorUri } from "../errors.js";
import { errorMessage, type WampDict } from "../messages.js";
import type { RoutingContext } from "./routing-context.js";

export interface GuardedRequest {
  readonly type: number;
  readonly requestId: number;
  readonly uri: string;
  readonly action: Action;
  readonly options: WampDict;
  /** Answer a denial with an ERROR (false for a PUBLISH without acknowledge). */
  readonly replyOnDenial: boolean;
}

/**
 * Asks the realm's authorizer whether the session may do `action` on `uri`, then runs `proceed`
 * with the disclosure decision, or answers the denial. Returns the authorizer's promise when it
 * answers asynchronously, so that the session holds its later messages until then.
 */
export function authorizeThen(ctx: RoutingContext, request: GuardedRequest, proceed: (disclose: boolean) => void): Promise<void> | void {
  const outcome = ctx.realm.authorizer.authorize(ctx.peer, request.uri, request.action, request.options);
  if (outcome instanceof Promise) return outcome.then((o) => apply(ctx, request, proceed, o));
  apply(ctx, request, proceed, outcome);
}

function apply(ctx: RoutingContext, request: GuardedRequest, proceed: (disclose: boolean) => void, outcome: AuthorizationOutcome): void {
  if (!ctx.peer.isOpen()) return;
  if ("failed" in outcome) {
    ctx.logger.warn({ session: ctx.peer.session, uri: request.uri, action: request.action, reason: outcome.failed }, "authorizer failed");
    if (request.replyOnDenial) ctx.peer.send(errorMessage(request.type, request.requestId, ErrorUri.authorizationFailed, [outcome.failed]));
    return;
  }
  if (!outcome.allow) {
    if (request.replyOnDenial) {
      ctx.peer.send(errorMessage(request.type, request.requestId, ErrorUri.notAuthorized, [`session is not authorized to ${request.action} '${request.uri}'`]));
    }
    return;
  }
  proceed(outcome.disclose || request.options.disclose_me === true);
}
