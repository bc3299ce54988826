/**
 * What an established session's requests do: URI checks, authorization, then the realm's dealer
 * or broker; refused requests get their ERROR here.
 */
import { ErrorUri } from "../errors.js";
import { isValidUri, readMatchPolicy, type MatchPolicy } from "../ids.js";
import { errorMessage, MessageType, type WampDict } from "../messages.js";
import type { AnswerVerdict, CancelMode } from "../realm/dealer.js";
import type { InboundMessage } from "../wire/inbound-message.js";
import { authorizeThen } from "./action-guard.js";
import type { RoutingContext } from "./routing-context.js";

export type RoutedMessage = Extract<
  InboundMessage,
  { kind: "publish" | "subscribe" | "unsubscribe" | "call" | "cancel" | "register" | "unregister" | "yield" | "invocation-error" | "refused" }
>;

const cancelModes = new Set<unknown>(["skip", "kill", "killnowait"]);

export function route(ctx: RoutingContext, msg: RoutedMessage): Promise<void> | void {
  const { peer, realm } = ctx;
  switch (msg.kind) {
    case "publish":
      return publish(ctx, msg);
    case "subscribe":
      return subscribe(ctx, msg);
    case "unsubscribe":
      realm.broker.unsubscribe(peer, msg.requestId, msg.subscriptionId);
      return;
    case "call":
      return call(ctx, msg);
    case "cancel": {
      const mode = msg.options.mode ?? "killnowait";
      if (!cancelModes.has(mode)) {
        peer.send(errorMessage(MessageType.CANCEL, msg.requestId, ErrorUri.invalidArgument, [`invalid cancel mode '${String(mode)}'`]));
        return;
      }
      realm.dealer.cancel(peer, msg.requestId, mode as CancelMode);
      return;
    }
    case "register":
      return register(ctx, msg);
    case "unregister":
      realm.dealer.unregister(peer, msg.requestId, msg.registrationId);
      return;
    case "yield":
      return answered(ctx, "YIELD", msg.invocationId, realm.dealer.yieldResult(peer, msg.invocationId, msg.options, msg.args, msg.kwargs));
    case "invocation-error":
      return answered(ctx, "ERROR", msg.invocationId, realm.dealer.calleeError(peer, msg.invocationId, msg.details, msg.uri, msg.args, msg.kwargs));
    case "refused":
      return refused(ctx, msg);
    default: {
      const never: never = msg;
      return never;
    }
  }
}

/** A callee answering an invocation it was never sent breaks the protocol; a late answer is dropped. */
function answered(ctx: RoutingContext, name: string, invocationId: number, verdict: AnswerVerdict): void {
  if (verdict === "never-issued") ctx.violation(`${name} for invocation ${invocationId}, which was never issued`);
}

function readTarget(ctx: RoutingContext, uri: unknown, options: WampDict): { uri: string; match: MatchPolicy } | string {
  const match = readMatchPolicy(options.match);
  if (match === undefined) return `invalid match policy '${String(options.match)}'`;
  if (!isValidUri(uri, ctx.uriCheck, match)) return `invalid URI '${String(uri)}'`;
  return { uri, match };
}

/** `wamp.*` URIs belong to the router: only role trusted may publish or register under them. */
const reserved = (ctx: RoutingContext, uri: string): boolean => uri.startsWith("wamp.") && ctx.peer.authrole !== "trusted";

function publish(ctx: RoutingContext, msg: Extract<RoutedMessage, { kind: "publish" }>): Promise<void> | void {
  const { requestId, options, topic } = msg;
  const acknowledge = options.acknowledge === true;
  if (!isValidUri(topic, ctx.uriCheck) || reserved(ctx, topic)) {
    if (acknowledge) ctx.peer.send(errorMessage(MessageType.PUBLISH, requestId, ErrorUri.invalidUri, [`invalid topic URI '${String(topic)}'`]));
    return;
  }
  const request = { type: MessageType.PUBLISH, requestId, uri: topic, action: "publish", options, replyOnDenial: acknowledge } as const;
  return authorizeThen(ctx, request, (disclose) => {
    const publicationId = ctx.realm.broker.publish(ctx.peer, { topic, options, args: msg.args, kwargs: msg.kwargs, disclose });
    if (acknowledge) ctx.peer.send([MessageType.PUBLISHED, requestId, publicationId]);
  });
}

function subscribe(ctx: RoutingContext, msg: Extract<RoutedMessage, { kind: "subscribe" }>): Promise<void> | void {
  const target = readTarget(ctx, msg.topic, msg.options);
  if (typeof target === "string") {
    ctx.peer.send(errorMessage(MessageType.SUBSCRIBE, msg.requestId, ErrorUri.invalidUri, [target]));
    return;
  }
  const request = { type: MessageType.SUBSCRIBE, requestId: msg.requestId, uri: target.uri, action: "subscribe", options: msg.options, replyOnDenial: true } as const;
  return authorizeThen(ctx, request, () => ctx.realm.broker.subscribe(ctx.peer, msg.requestId, target.uri, target.match));
}

function call(ctx: RoutingContext, msg: Extract<RoutedMessage, { kind: "call" }>): Promise<void> | void {
  const { requestId, options, procedure } = msg;
  if (!isValidUri(procedure, ctx.uriCheck)) {
    ctx.peer.send(errorMessage(MessageType.CALL, requestId, ErrorUri.invalidUri, [`invalid procedure URI '${String(procedure)}'`]));
    return;
  }
  const request = { type: MessageType.CALL, requestId, uri: procedure, action: "call", options, replyOnDenial: true } as const;
  return authorizeThen(ctx, request, (disclose) => {
    const routed = ctx.realm.dealer.call(ctx.peer, { requestId, procedure, options, args: msg.args, kwargs: msg.kwargs, disclose });
    if (routed === "duplicate") ctx.violation(`CALL ${requestId} reuses the request id of a call still in progress`);
  });
}

function register(ctx: RoutingContext, msg: Extract<RoutedMessage, { kind: "register" }>): Promise<void> | void {
  const target = readTarget(ctx, msg.procedure, msg.options);
  if (typeof target === "string" || reserved(ctx, target.uri)) {
    const why = typeof target === "string" ? target : `URI '${target.uri}' is reserved`;
    ctx.peer.send(errorMessage(MessageType.REGISTER, msg.requestId, ErrorUri.invalidUri, [why]));
    return;
  }
  const request = { type: MessageType.REGISTER, requestId: msg.requestId, uri: target.uri, action: "register", options: msg.options, replyOnDenial: true } as const;
  return authorizeThen(ctx, request, () =>
    ctx.realm.dealer.register(ctx.peer, msg.requestId, target.uri, target.match, msg.options.disclose_caller === true),
  );
}

/**
 * A request with an element the router would not decode (too deep, a bad dict key): that request
 * fails, the session goes on. A CALL gets the embedding's payload error (RouterOptions.callPayloadError).
 */
function refused(ctx: RoutingContext, msg: Extract<RoutedMessage, { kind: "refused" }>): void {
  const { peer, realm } = ctx;
  const { type, requestId, problem } = msg;
  ctx.logger.debug({ session: peer.session, type, reason: problem.message }, "request refused");
  switch (type) {
    case MessageType.CALL: {
      const reply = ctx.callPayloadError(problem);
      peer.send(errorMessage(MessageType.CALL, requestId, reply.uri, reply.args, reply.kwargs));
      return;
    }
    case MessageType.PUBLISH:
      if (msg.acknowledge) peer.send(errorMessage(MessageType.PUBLISH, requestId, ErrorUri.invalidArgument, [problem.message]));
      return;
    case MessageType.YIELD:
      return answered(ctx, "YIELD", requestId, realm.dealer.refuseAnswer(peer, requestId, problem));
    case MessageType.ERROR:
      return answered(ctx, "ERROR", requestId, realm.dealer.refuseAnswer(peer, requestId, problem));
    default:
      peer.send(errorMessage(type, requestId, ErrorUri.invalidArgument, [problem.message]));
  }
}
