import type { Logger } from "pino";
import { startAuthentication, type AuthContext, type AuthOutcome } from "./auth/authenticate.js";
import type { AuthorizationOutcome } from "./auth/authorize.js";
import type { Action, Welcome } from "./auth/types.js";
import type { CancelMode } from "./dealer.js";
import { ErrorUri } from "./errors.js";
import { isValidUri, readMatchPolicy, type MatchPolicy, type UriCheck } from "./ids.js";
import { errorMessage, isDict, isId, isString, MAX_ID, MessageType, readPayload, type WampDict } from "./messages.js";
import type { Peer, SharedMessage, TransportInfo } from "./peer.js";
import type { Realm } from "./realm.js";
import type { Serializer } from "./serializers/index.js";

/** The transport side of a session (a WebSocket connection). */
export interface Connection {
  readonly serializer: Serializer;
  readonly info: TransportInfo;
  /** Queues one frame; the transport enforces its send-buffer bound. */
  send(frame: string | Buffer): void;
  close(code: number, reason: string): void;
}

export interface SessionHost {
  readonly realms: ReadonlyMap<string, Realm>;
  readonly auth: Omit<AuthContext, "realmExists">;
  readonly uriCheck: UriCheck;
  readonly handshakeTimeoutMs: number;
  readonly logger: Logger;
  newSessionId(): number;
  /** Runs `join` now, or once the router admits sessions (see RouterOptions.holdUntilAdmitted). */
  whenAdmitted(join: () => void): void;
}

export const routerRoles = {
  broker: {
    features: {
      publisher_identification: true,
      publisher_exclusion: true,
      subscriber_blackwhite_listing: true,
      pattern_based_subscription: true,
      session_meta_api: true,
    },
  },
  dealer: {
    features: {
      caller_identification: true,
      progressive_call_results: true,
      call_canceling: true,
      call_timeout: true,
      pattern_based_registration: true,
      session_meta_api: true,
    },
  },
} as const;

type SessionState =
  | { readonly kind: "awaiting-hello" }
  | { readonly kind: "authenticating"; readonly realm: string; readonly outcome: AuthOutcome & { kind: "challenge" } | undefined }
  | { readonly kind: "established"; readonly realm: Realm }
  | { readonly kind: "goodbye-sent"; readonly realm: Realm }
  | { readonly kind: "closed" };

const MAX_QUEUED = 10_000;
const cancelModes = new Set<unknown>(["skip", "kill", "killnowait"]);

/** One WAMP session over one connection: handshake, authentication, then routing. */
export class WampSession implements Peer {
  session: number;
  realm = "";
  authid = "";
  authrole = "";
  authmethod = "";
  authprovider = "";
  authextra: WampDict = {};
  roles: WampDict = {};
  readonly transport: TransportInfo;

  private state: SessionState = { kind: "awaiting-hello" };
  private requestCounter = 0;
  private paused = false;
  private readonly queue: unknown[][] = [];
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly connection: Connection,
    private readonly host: SessionHost,
  ) {
    this.session = host.newSessionId();
    this.transport = connection.info;
    this.log = host.logger.child({ session: this.session });
    this.handshakeTimer = setTimeout(() => this.abort(ErrorUri.protocolViolation, "handshake not completed in time"), host.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  // ---- Peer -------------------------------------------------------------------------------
  send(message: unknown[]): boolean {
    if (this.state.kind === "closed") return false;
    let frame: string | Buffer;
    try {
      frame = this.connection.serializer.encode(message);
    } catch (err) {
      this.log.warn({ err: String(err), type: message[0] }, "cannot encode message; not sent");
      return false;
    }
    this.connection.send(frame);
    return true;
  }

  sendShared(message: SharedMessage): void {
    if (this.state.kind !== "established") return;
    try {
      this.connection.send(message.encodedFor(this.connection.serializer));
    } catch (err) {
      this.log.warn({ err }, "cannot encode event; dropped");
    }
  }

  nextRequestId(): number {
    this.requestCounter = this.requestCounter >= MAX_ID ? 1 : this.requestCounter + 1;
    return this.requestCounter;
  }

  isOpen(): boolean {
    return this.state.kind === "established";
  }

  // ---- transport events -------------------------------------------------------------------
  onFrame(frame: Buffer, isBinary: boolean): void {
    if (this.state.kind === "closed") return;
    if (isBinary !== this.connection.serializer.binary) {
      this.abort(ErrorUri.protocolViolation, `unexpected ${isBinary ? "binary" : "text"} frame for ${this.connection.serializer.protocol}`);
      return;
    }
    let message: unknown;
    try {
      message = this.connection.serializer.decode(frame);
    } catch (err) {
      // The decoder's reason tells a client what it did wrong (msgpack5 refuses nesting deeper
      // than 100 and `__proto__` keys, for instance: valid msgpack it will not decode).
      const why = err instanceof Error ? `: ${err.message.slice(0, 120)}` : "";
      this.abort(ErrorUri.protocolViolation, `malformed ${this.connection.serializer.name} frame${why}`);
      return;
    }
    if (!Array.isArray(message) || message.length === 0 || typeof message[0] !== "number") {
      this.abort(ErrorUri.protocolViolation, "a WAMP message must be a non-empty list starting with a message type");
      return;
    }
    if (this.paused) {
      if (this.queue.length >= MAX_QUEUED) this.abort(ErrorUri.protocolViolation, "too many messages while waiting for authorization");
      else this.queue.push(message);
      return;
    }
    this.dispatch(message);
  }

  /** The connection is gone (closed by either side). */
  onClose(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    const state = this.state;
    this.state = { kind: "closed" };
    if (state.kind === "established" || state.kind === "goodbye-sent") state.realm.leave(this);
  }

  /** Router-initiated end of the session (router.close()). */
  shutdown(reason: string = ErrorUri.systemShutdown, message = "router is shutting down"): void {
    if (this.state.kind === "established") {
      this.send([MessageType.GOODBYE, { message }, reason]);
      this.state = { kind: "goodbye-sent", realm: this.state.realm };
      const timer = setTimeout(() => this.finish(1001, "goodbye"), 1000);
      timer.unref();
    } else if (this.state.kind !== "closed") {
      this.abort(reason, message, 1001);
    }
  }

  /** ABORT with a reason, then close the connection; never throws. */
  abort(reason: string, message: string, code = 1002): void {
    if (this.state.kind === "closed") return;
    this.log.debug({ reason, message }, "abort");
    this.send([MessageType.ABORT, { message }, reason]);
    this.finish(code, message);
  }

  private finish(code: number, reason: string): void {
    this.onClose();
    this.connection.close(code, reason.slice(0, 120));
  }

  // ---- dispatch ----------------------------------------------------------------------------
  private dispatch(message: unknown[]): void {
    let pending: Promise<void> | void;
    try {
      pending = this.handle(message);
    } catch (err) {
      this.log.error({ err }, "message handling failed");
      this.abort(ErrorUri.protocolViolation, "internal error while handling message");
      return;
    }
    if (pending instanceof Promise) {
      this.paused = true;
      pending
        .catch((err: unknown) => {
          this.log.error({ err }, "message handling failed");
          this.abort(ErrorUri.protocolViolation, "internal error while handling message");
        })
        .finally(() => {
          this.paused = false;
          while (!this.paused && this.queue.length > 0 && this.state.kind !== "closed") this.dispatch(this.queue.shift() as unknown[]);
        });
    }
  }

  private handle(msg: unknown[]): Promise<void> | void {
    const type = msg[0];
    if (type === MessageType.ABORT) {
      this.finish(1000, "aborted by peer");
      return;
    }
    switch (this.state.kind) {
      case "awaiting-hello":
        if (type !== MessageType.HELLO) return this.violation(`expected HELLO, got message type ${String(type)}`);
        return this.onHello(msg);
      case "authenticating":
        if (type !== MessageType.AUTHENTICATE || this.state.outcome === undefined) return this.violation(`expected AUTHENTICATE, got message type ${String(type)}`);
        return this.onAuthenticate(msg, this.state.outcome);
      case "established":
        return this.onEstablished(msg, this.state.realm);
      case "goodbye-sent":
        if (type === MessageType.GOODBYE) this.finish(1000, "goodbye");
        return;
      case "closed":
        return;
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  private violation(message: string): void {
    this.abort(ErrorUri.protocolViolation, message);
  }

  // ---- handshake ---------------------------------------------------------------------------
  private onHello(msg: unknown[]): Promise<void> | void {
    const [, realmName, details] = msg;
    if (msg.length !== 3 || !isString(realmName) || !isDict(details) || !isDict(details.roles)) {
      return this.violation("HELLO must be [1, realm, details] with details.roles");
    }
    if (!isValidUri(realmName, this.host.uriCheck)) return this.violation(`invalid realm URI '${realmName}'`);
    if (!this.host.realms.has(realmName)) {
      this.abort(ErrorUri.noSuchRealm, `no realm '${realmName}'`, 1000);
      return;
    }
    this.roles = details.roles;
    const methods = Array.isArray(details.authmethods) ? details.authmethods.filter(isString) : ["anonymous"];
    this.state = { kind: "authenticating", realm: realmName, outcome: undefined };
    const authextra = isDict(details.authextra) ? details.authextra : {};
    return startAuthentication(
      {
        realm: realmName,
        authid: isString(details.authid) ? details.authid : undefined,
        authmethods: methods,
        authextra,
        session: this.session,
        transport: this.transport,
      },
      { ...this.host.auth, realmExists: (name) => this.host.realms.has(name) },
    ).then((outcome) => this.applyAuthOutcome(outcome));
  }

  private onAuthenticate(msg: unknown[], challenge: AuthOutcome & { kind: "challenge" }): Promise<void> | void {
    const [, signature, extra] = msg;
    if (msg.length !== 3 || !isString(signature) || !isDict(extra)) return this.violation("AUTHENTICATE must be [5, signature, extra]");
    return challenge.verify(signature, extra).then((outcome) => this.applyAuthOutcome(outcome));
  }

  private applyAuthOutcome(outcome: AuthOutcome): void {
    if (this.state.kind !== "authenticating") return;
    switch (outcome.kind) {
      case "abort":
        this.abort(outcome.reason, outcome.message, 1000);
        return;
      case "challenge":
        this.state = { kind: "authenticating", realm: this.state.realm, outcome };
        this.send([MessageType.CHALLENGE, outcome.method, outcome.extra]);
        return;
      case "welcome":
        this.welcome(outcome.welcome);
        return;
      default: {
        const never: never = outcome;
        return never;
      }
    }
  }

  private welcome(w: Welcome): void {
    if (w.authrole === "trusted") this.join(w);
    else {
      // The handshake timer keeps running while held: a router never admitting cannot hold for ever.
      this.host.whenAdmitted(() => {
        if (this.state.kind === "authenticating") this.join(w);
      });
    }
  }

  private join(w: Welcome): void {
    const realm = this.host.realms.get(w.realm);
    if (realm === undefined) {
      this.abort(ErrorUri.noSuchRealm, `no realm '${w.realm}'`, 1000);
      return;
    }
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.realm = w.realm;
    this.authid = w.authid;
    this.authrole = w.authrole;
    this.authmethod = w.authmethod;
    this.authprovider = w.authprovider;
    this.authextra = w.authextra;
    this.state = { kind: "established", realm };
    const details: WampDict = {
      realm: w.realm,
      authid: w.authid,
      authrole: w.authrole,
      authmethod: w.authmethod,
      authprovider: w.authprovider,
      roles: routerRoles,
    };
    if (Object.keys(w.authextra).length > 0) details.authextra = w.authextra;
    this.send([MessageType.WELCOME, this.session, details]);
    realm.join(this);
    this.log.debug({ realm: w.realm, authid: w.authid, authrole: w.authrole }, "session joined");
  }

  // ---- established -------------------------------------------------------------------------
  private onEstablished(msg: unknown[], realm: Realm): Promise<void> | void {
    const type = msg[0];
    switch (type) {
      case MessageType.PUBLISH:
        return this.onPublish(msg, realm);
      case MessageType.SUBSCRIBE:
        return this.onSubscribe(msg, realm);
      case MessageType.UNSUBSCRIBE: {
        const [, requestId, subscriptionId] = msg;
        if (msg.length !== 3 || !isId(requestId) || !isId(subscriptionId)) return this.violation("UNSUBSCRIBE must be [34, request, subscription]");
        realm.broker.unsubscribe(this, requestId, subscriptionId);
        return;
      }
      case MessageType.CALL:
        return this.onCall(msg, realm);
      case MessageType.CANCEL: {
        const [, requestId, options] = msg;
        if (msg.length !== 3 || !isId(requestId) || !isDict(options)) return this.violation("CANCEL must be [49, request, options]");
        const mode = options.mode ?? "killnowait";
        if (!cancelModes.has(mode)) {
          this.send(errorMessage(MessageType.CANCEL, requestId, ErrorUri.invalidArgument, [`invalid cancel mode '${String(mode)}'`]));
          return;
        }
        realm.dealer.cancel(this, requestId, mode as CancelMode);
        return;
      }
      case MessageType.REGISTER:
        return this.onRegister(msg, realm);
      case MessageType.UNREGISTER: {
        const [, requestId, registrationId] = msg;
        if (msg.length !== 3 || !isId(requestId) || !isId(registrationId)) return this.violation("UNREGISTER must be [66, request, registration]");
        realm.dealer.unregister(this, requestId, registrationId);
        return;
      }
      case MessageType.YIELD: {
        const [, invocationId, options] = msg;
        const payload = readPayload(msg, 3);
        if (msg.length < 3 || !isId(invocationId) || !isDict(options) || payload === false) return this.violation("YIELD must be [70, request, options, args?, kwargs?]");
        realm.dealer.yieldResult(this, invocationId, options, payload.args, payload.kwargs);
        return;
      }
      case MessageType.ERROR: {
        const [, requestType, requestId, details, uri] = msg;
        const payload = readPayload(msg, 5);
        if (msg.length < 5 || requestType !== MessageType.INVOCATION || !isId(requestId) || !isDict(details) || !isString(uri) || payload === false) {
          return this.violation("ERROR from a client must answer an INVOCATION: [8, 68, request, details, error, args?, kwargs?]");
        }
        realm.dealer.calleeError(this, requestId, details, uri, payload.args, payload.kwargs);
        return;
      }
      case MessageType.GOODBYE: {
        const [, details, reason] = msg;
        if (msg.length !== 3 || !isDict(details) || !isString(reason)) return this.violation("GOODBYE must be [6, details, reason]");
        this.send([MessageType.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
        this.finish(1000, "goodbye");
        return;
      }
      default:
        return this.violation(`message type ${String(type)} is not allowed in an established session`);
    }
  }

  private readTarget(uri: unknown, options: WampDict): { uri: string; match: MatchPolicy } | string {
    const match = readMatchPolicy(options.match);
    if (match === undefined) return `invalid match policy '${String(options.match)}'`;
    if (!isValidUri(uri, this.host.uriCheck, match)) return `invalid URI '${String(uri)}'`;
    return { uri, match };
  }

  /** Runs the authorizer, then `proceed`, or answers with the denial; keeps message order. */
  private guarded(
    realm: Realm,
    requestType: number,
    requestId: number,
    uri: string,
    action: Action,
    options: WampDict,
    replyOnError: boolean,
    proceed: (disclose: boolean) => void,
  ): Promise<void> | void {
    const apply = (outcome: AuthorizationOutcome): void => {
      if (this.state.kind !== "established") return;
      if ("failed" in outcome) {
        this.log.warn({ uri, action, reason: outcome.failed }, "authorizer failed");
        if (replyOnError) this.send(errorMessage(requestType, requestId, ErrorUri.authorizationFailed, [outcome.failed]));
        return;
      }
      if (!outcome.allow) {
        if (replyOnError) {
          this.send(errorMessage(requestType, requestId, ErrorUri.notAuthorized, [`session is not authorized to ${action} '${uri}'`]));
        }
        return;
      }
      proceed(outcome.disclose || options.disclose_me === true);
    };
    const outcome = realm.authorizer.authorize(this, uri, action, options);
    if (outcome instanceof Promise) return outcome.then(apply);
    apply(outcome);
  }

  private reserved(uri: string): boolean {
    return uri.startsWith("wamp.") && this.authrole !== "trusted";
  }

  private onPublish(msg: unknown[], realm: Realm): Promise<void> | void {
    const [, requestId, options, topic] = msg;
    const payload = readPayload(msg, 4);
    if (msg.length < 4 || !isId(requestId) || !isDict(options) || payload === false) return this.violation("PUBLISH must be [16, request, options, topic, args?, kwargs?]");
    const acknowledge = options.acknowledge === true;
    if (!isValidUri(topic, this.host.uriCheck) || this.reserved(topic)) {
      if (acknowledge) this.send(errorMessage(MessageType.PUBLISH, requestId, ErrorUri.invalidUri, [`invalid topic URI '${String(topic)}'`]));
      return;
    }
    return this.guarded(realm, MessageType.PUBLISH, requestId, topic, "publish", options, acknowledge, (disclose) => {
      const publicationId = realm.broker.publish(this, { topic, options, args: payload.args, kwargs: payload.kwargs, disclose });
      if (acknowledge) this.send([MessageType.PUBLISHED, requestId, publicationId]);
    });
  }

  private onSubscribe(msg: unknown[], realm: Realm): Promise<void> | void {
    const [, requestId, options, topic] = msg;
    if (msg.length !== 4 || !isId(requestId) || !isDict(options)) return this.violation("SUBSCRIBE must be [32, request, options, topic]");
    const target = this.readTarget(topic, options);
    if (typeof target === "string") {
      this.send(errorMessage(MessageType.SUBSCRIBE, requestId, ErrorUri.invalidUri, [target]));
      return;
    }
    return this.guarded(realm, MessageType.SUBSCRIBE, requestId, target.uri, "subscribe", options, true, () => {
      realm.broker.subscribe(this, requestId, target.uri, target.match);
    });
  }

  private onCall(msg: unknown[], realm: Realm): Promise<void> | void {
    const [, requestId, options, procedure] = msg;
    const payload = readPayload(msg, 4);
    if (msg.length < 4 || !isId(requestId) || !isDict(options) || payload === false) return this.violation("CALL must be [48, request, options, procedure, args?, kwargs?]");
    if (!isValidUri(procedure, this.host.uriCheck)) {
      this.send(errorMessage(MessageType.CALL, requestId, ErrorUri.invalidUri, [`invalid procedure URI '${String(procedure)}'`]));
      return;
    }
    return this.guarded(realm, MessageType.CALL, requestId, procedure, "call", options, true, (disclose) => {
      realm.dealer.call(this, { requestId, procedure, options, args: payload.args, kwargs: payload.kwargs, disclose });
    });
  }

  private onRegister(msg: unknown[], realm: Realm): Promise<void> | void {
    const [, requestId, options, procedure] = msg;
    if (msg.length !== 4 || !isId(requestId) || !isDict(options)) return this.violation("REGISTER must be [64, request, options, procedure]");
    const target = this.readTarget(procedure, options);
    if (typeof target === "string" || this.reserved(target.uri)) {
      this.send(errorMessage(MessageType.REGISTER, requestId, ErrorUri.invalidUri, [typeof target === "string" ? target : `URI '${target.uri}' is reserved`]));
      return;
    }
    return this.guarded(realm, MessageType.REGISTER, requestId, target.uri, "register", options, true, () => {
      realm.dealer.register(this, requestId, target.uri, target.match);
    });
  }
}
