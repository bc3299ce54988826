/**
 * One WAMP session over one connection: a state machine (session-state.ts) fed by decoded
 * messages (wire/), in order (inbound-queue.ts). The handshake's logic is in handshake.ts,
 * what established sessions' requests do in routing.ts.
 *
 * A session's data is one record and its steps are functions over that record, rather than
 * closures made per session: a router holds many idle sessions.
 */
import type { Logger } from "pino";
import type { AppError } from "../../errors.js";
import type { AuthContext, AuthOutcome, Challenge } from "../auth/authenticate.js";
import type { Welcome } from "../auth/types.js";
import { ErrorUri, type WampErrorReply } from "../errors.js";
import type { UriCheck } from "../ids.js";
import { MessageType, type WampDict } from "../messages.js";
import { encodeShared, type Peer, type SharedMessage, type TransportInfo } from "../peer.js";
import type { Realm } from "../realm/realm.js";
import type { Serializer } from "../serializers/index.js";
import { decodeFrame } from "../wire/decode-frame.js";
import { readInbound, type InboundMessage } from "../wire/inbound-message.js";
import { beginAuthentication, welcomeDetails } from "./handshake.js";
import { createInboundQueue, enqueue, type InboundQueue, type QueueHandlers } from "./inbound-queue.js";
import { route } from "./routing.js";
import type { RoutingContext } from "./routing-context.js";
import { inHandshake, type SessionState } from "./session-state.js";

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
  /** See RouterOptions.maxNestingDepth. */
  readonly maxNestingDepth: number;
  readonly logger: Logger;
  newSessionId(): number;
  /** Runs `join` now, or once the router admits sessions (see RouterOptions.holdUntilAdmitted). */
  whenAdmitted(join: () => void): void;
  /** See RouterOptions.callPayloadError. */
  callPayloadError(problem: AppError): WampErrorReply;
}

const MAX_QUEUED = 10_000;
const GOODBYE_WAIT_MS = 1000;

/** A session, as the transport holds it: drive it with receiveFrame, connectionClosed, shutdownSession. */
export interface Session {
  readonly id: number;
}

/** The session's own record; only this module reads or changes it, the state through setState. */
interface SessionRecord extends Session {
  readonly connection: Connection;
  readonly host: SessionHost;
  readonly inbound: InboundQueue<InboundMessage>;
  state: SessionState;
}

const recordOf = (session: Session): SessionRecord => session as SessionRecord;

export function createSession(connection: Connection, host: SessionHost): Session {
  const core: SessionRecord = {
    id: host.newSessionId(),
    connection,
    host,
    inbound: createInboundQueue(),
    state: { kind: "closed" },
  };
  const deadline = setTimeout(() => violation(core, "handshake not completed in time"), host.handshakeTimeoutMs);
  deadline.unref();
  core.state = { kind: "awaiting-hello", deadline };
  return core;
}

/** The role the session joined with; undefined before WELCOME and after the end. */
export function sessionRole(session: Session): string | undefined {
  const { state } = recordOf(session);
  return state.kind === "established" ? state.peer.authrole : undefined;
}

/** The connection is gone (closed by either side). */
export function connectionClosed(session: Session): void {
  setState(recordOf(session), { kind: "closed" });
}

/** Router-initiated end: GOODBYE when established, else ABORT. */
export function shutdownSession(session: Session, reason: string = ErrorUri.systemShutdown, message = "router is shutting down"): void {
  shutdown(recordOf(session), reason, message);
}

/** The one place the state changes, with the exit actions of the state left. */
function setState(core: SessionRecord, next: SessionState): void {
  const prev = core.state;
  if (prev.kind === "closed") return;
  core.state = next;
  if (inHandshake(prev) && !inHandshake(next)) clearTimeout(prev.deadline);
  if (prev.kind === "closing") clearTimeout(prev.timer);
  if ((prev.kind === "established" || prev.kind === "closing") && next.kind === "closed") prev.realm.leave(prev.peer);
}

// ---- output --------------------------------------------------------------------------------

function send(core: SessionRecord, message: unknown[]): boolean {
  if (core.state.kind === "closed") return false;
  let frame: string | Buffer;
  try {
    frame = core.connection.serializer.encode(message);
  } catch (err) {
    core.host.logger.warn({ session: core.id, type: message[0], reason: encodeFailure(err) }, "cannot encode message; not sent");
    return false;
  }
  core.connection.send(frame);
  return true;
}

function sendShared(core: SessionRecord, shared: SharedMessage): void {
  if (core.state.kind !== "established") return;
  try {
    core.connection.send(encodeShared(shared, core.connection.serializer));
  } catch (err) {
    core.host.logger.warn({ session: core.id, reason: encodeFailure(err) }, "cannot encode event; dropped");
  }
}

const encodeFailure = (err: unknown): string => (err instanceof RangeError ? "nested too deeply for the encoder" : String(err).slice(0, 200));

/** ABORT with a reason, then close the connection; never throws. */
function abort(core: SessionRecord, reason: string, message: string, code = reason === ErrorUri.protocolViolation ? 1002 : 1000): void {
  if (core.state.kind === "closed") return;
  core.host.logger.debug({ session: core.id, reason, message }, "abort");
  send(core, [MessageType.ABORT, { message }, reason]);
  finish(core, code, message);
}

function violation(core: SessionRecord, reason: string): void {
  abort(core, ErrorUri.protocolViolation, reason);
}

function finish(core: SessionRecord, code: number, reason: string): void {
  setState(core, { kind: "closed" });
  core.connection.close(code, reason.slice(0, 120));
}

function shutdown(core: SessionRecord, reason: string, message: string): void {
  const s = core.state;
  if (s.kind === "established") {
    send(core, [MessageType.GOODBYE, { message }, reason]);
    const timer = setTimeout(() => finish(core, 1001, "goodbye"), GOODBYE_WAIT_MS);
    timer.unref();
    setState(core, { kind: "closing", realm: s.realm, peer: s.peer, timer });
  } else if (s.kind !== "closed" && s.kind !== "closing") {
    abort(core, reason, message, 1001);
  }
}

// ---- input ---------------------------------------------------------------------------------

export function receiveFrame(session: Session, frame: Buffer, isBinary: boolean): void {
  const core = recordOf(session);
  if (core.state.kind === "closed") return;
  const { serializer } = core.connection;
  let message: InboundMessage;
  if (isBinary !== serializer.binary) {
    message = { kind: "violation", reason: `unexpected ${isBinary ? "binary" : "text"} frame for ${serializer.protocol}` };
  } else {
    const decoded = decodeFrame(serializer, frame, core.host.maxNestingDepth);
    message = decoded.kind === "malformed" ? { kind: "violation", reason: `malformed ${serializer.name} frame: ${decoded.reason}` } : readInbound(decoded.elements, decoded.refusals);
  }
  enqueue(core.inbound, message, MAX_QUEUED, core, queueHandlers);
}

const queueHandlers: QueueHandlers<SessionRecord, InboundMessage> = {
  handle,
  failed(core, err) {
    core.host.logger.error({ session: core.id, err }, "message handling failed");
    violation(core, "internal error while handling message");
  },
  overflowed(core) {
    violation(core, "too many messages while waiting for authorization");
  },
  isClosed(core) {
    return core.state.kind === "closed";
  },
};

const names: Partial<Record<InboundMessage["kind"], string>> = {
  hello: "HELLO",
  authenticate: "AUTHENTICATE",
  goodbye: "GOODBYE",
  publish: "PUBLISH",
  subscribe: "SUBSCRIBE",
  unsubscribe: "UNSUBSCRIBE",
  call: "CALL",
  cancel: "CANCEL",
  register: "REGISTER",
  unregister: "UNREGISTER",
  yield: "YIELD",
  "invocation-error": "ERROR",
};

const describe = (msg: InboundMessage): string =>
  msg.kind === "unexpected" || msg.kind === "refused" ? `message type ${msg.type}` : (names[msg.kind] ?? msg.kind);

function handle(core: SessionRecord, msg: InboundMessage): Promise<void> | void {
  if (msg.kind === "violation") return violation(core, msg.reason);
  if (msg.kind === "abort") return finish(core, 1000, "aborted by peer");
  const s = core.state;
  switch (s.kind) {
    case "awaiting-hello":
      if (msg.kind !== "hello") return violation(core, `expected HELLO, got ${describe(msg)}`);
      return onHello(core, msg, s.deadline);
    case "authenticating":
    case "held":
      return violation(core, `${describe(msg)} before the handshake finished`);
    case "challenged":
      if (msg.kind !== "authenticate") return violation(core, `expected AUTHENTICATE, got ${describe(msg)}`);
      setState(core, { kind: "authenticating", deadline: s.deadline, roles: s.roles });
      return s.challenge.verify(msg.signature, msg.extra).then((outcome) => applyAuthOutcome(core, outcome));
    case "established":
      switch (msg.kind) {
        case "goodbye":
          send(core, [MessageType.GOODBYE, {}, ErrorUri.goodbyeAndOut]);
          return finish(core, 1000, "goodbye");
        case "hello":
        case "authenticate":
        case "unexpected":
          return violation(core, `${describe(msg)} is not allowed in an established session`);
        default:
          return route(s.routing, msg);
      }
    case "closing":
      if (msg.kind === "goodbye") finish(core, 1000, "goodbye");
      return;
    case "closed":
      return;
    default: {
      const never: never = s;
      return never;
    }
  }
}

// ---- handshake -----------------------------------------------------------------------------

function onHello(core: SessionRecord, hello: Extract<InboundMessage, { kind: "hello" }>, deadline: NodeJS.Timeout): Promise<void> | void {
  const { host } = core;
  const first = beginAuthentication(hello, core.id, core.connection.info, { realmNames: host.realms, uriCheck: host.uriCheck, auth: host.auth });
  if (!(first instanceof Promise)) return abort(core, first.reason, first.message);
  setState(core, { kind: "authenticating", deadline, roles: hello.details.roles });
  return first.then((outcome) => applyAuthOutcome(core, outcome));
}

function applyAuthOutcome(core: SessionRecord, outcome: AuthOutcome): void {
  const s = core.state;
  if (s.kind !== "authenticating") return;
  switch (outcome.kind) {
    case "abort":
      return abort(core, outcome.reason, outcome.message);
    case "challenge":
      return challenge(core, s, outcome);
    case "welcome":
      if (outcome.welcome.authrole === "trusted") return join(core, outcome.welcome, s.roles);
      // The deadline keeps running while held: a router that never admits cannot hold for ever.
      setState(core, { kind: "held", deadline: s.deadline, roles: s.roles, welcome: outcome.welcome });
      core.host.whenAdmitted(() => {
        const held = core.state;
        if (held.kind === "held") join(core, held.welcome, held.roles);
      });
      return;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

function challenge(core: SessionRecord, s: Extract<SessionState, { kind: "authenticating" }>, c: Challenge): void {
  setState(core, { kind: "challenged", deadline: s.deadline, roles: s.roles, challenge: c });
  send(core, [MessageType.CHALLENGE, c.method, c.extra]);
}

/*
 * A joined session's Peer and RoutingContext share their functions through `this` instead of
 * closing over the session: a router holds many idle sessions, and per-session closures cost
 * memory (more so under tsx, whose esbuild renames each arrow stored in a property).
 */
interface SessionPeer extends Peer {
  readonly core: SessionRecord;
}

const peerMethods = {
  send(this: SessionPeer, message: unknown[]): boolean {
    return send(this.core, message);
  },
  sendShared(this: SessionPeer, shared: SharedMessage): void {
    sendShared(this.core, shared);
  },
  isOpen(this: SessionPeer): boolean {
    return this.core.state.kind === "established";
  },
};

interface SessionRouting extends RoutingContext {
  readonly core: SessionRecord;
}

function routingViolation(this: SessionRouting, reason: string): void {
  violation(this.core, reason);
}

function join(core: SessionRecord, w: Welcome, roles: WampDict): void {
  const realm = core.host.realms.get(w.realm);
  if (realm === undefined) return abort(core, ErrorUri.noSuchRealm, `no realm '${w.realm}'`);
  const peer: SessionPeer = {
    session: core.id,
    realm: w.realm,
    authid: w.authid,
    authrole: w.authrole,
    authmethod: w.authmethod,
    authprovider: w.authprovider,
    authextra: w.authextra,
    transport: core.connection.info,
    roles,
    core,
    send: peerMethods.send,
    sendShared: peerMethods.sendShared,
    isOpen: peerMethods.isOpen,
  };
  const { host } = core;
  const routing: SessionRouting = {
    peer,
    realm,
    uriCheck: host.uriCheck,
    logger: host.logger,
    callPayloadError: host.callPayloadError,
    core,
    violation: routingViolation,
  };
  setState(core, { kind: "established", realm, peer, routing });
  send(core, [MessageType.WELCOME, core.id, welcomeDetails(w)]);
  realm.join(peer);
  host.logger.debug({ session: core.id, realm: w.realm, authid: w.authid, authrole: w.authrole }, "session joined");
}
