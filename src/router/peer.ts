import type { WampDict } from "./messages.js";
import type { Serializer } from "./serializers/index.js";

/** What is known about a joined session's identity (WELCOME details, meta API, authorizer). */
export interface PeerIdentity {
  readonly session: number;
  readonly realm: string;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  readonly authextra: WampDict;
}

export interface TransportInfo {
  readonly type: "websocket" | "internal";
  /** Negotiated subprotocol, e.g. `wamp.2.json`. */
  readonly protocol: string;
  /** `tcp4:127.0.0.1:53210`; never HTTP headers or cookies. */
  readonly peer: string;
}

/**
 * One joined session as the realm sees it: a WebSocket client, the router's in-process session,
 * or a one-shot caller of the router's own. The dealer and broker only talk to peers through this.
 */
export interface Peer extends PeerIdentity {
  readonly transport: TransportInfo;
  /** Client roles announced in HELLO (`{ callee: { features: {...} } }`). */
  readonly roles: WampDict;
  /** False when the message could not be encoded (e.g. nested deeper than the encoder allows) and was not sent. */
  send(message: unknown[]): boolean;
  /** Sends a message shared by many receivers, encoded at most once per serializer. */
  sendShared(message: SharedMessage): void;
  isOpen(): boolean;
}

/** A message sent to many peers (an EVENT): encoded lazily, once per serializer, to bytes. */
export interface SharedMessage {
  readonly message: unknown[];
  json: Buffer | undefined;
  others: Map<Serializer, Buffer> | undefined;
}

export function sharedMessage(message: unknown[]): SharedMessage {
  return { message, json: undefined, others: undefined };
}

/** The shared message's frame for `serializer`; throws when it cannot be encoded. */
export function encodeShared(shared: SharedMessage, serializer: Serializer): Buffer {
  if (serializer.name === "json") {
    shared.json ??= asBytes(serializer.encode(shared.message));
    return shared.json;
  }
  shared.others ??= new Map();
  let frame = shared.others.get(serializer);
  if (frame === undefined) {
    frame = asBytes(serializer.encode(shared.message));
    shared.others.set(serializer, frame);
  }
  return frame;
}

// Text is turned into UTF-8 here once, not once per receiving connection.
const asBytes = (encoded: string | Buffer): Buffer => (typeof encoded === "string" ? Buffer.from(encoded) : encoded);

export function hasFeature(peer: Peer, role: string, feature: string): boolean {
  const r = peer.roles[role];
  if (typeof r !== "object" || r === null) return false;
  const features = (r as WampDict).features;
  if (typeof features !== "object" || features === null) return false;
  return (features as WampDict)[feature] === true;
}

/** Session details as the meta API and the authorizer see them (Crossbar's shape, no headers). */
export function sessionDetails(peer: PeerIdentity & { transport: TransportInfo }): WampDict {
  return {
    session: peer.session,
    realm: peer.realm,
    authid: peer.authid,
    authrole: peer.authrole,
    authmethod: peer.authmethod,
    authprovider: peer.authprovider,
    authextra: peer.authextra,
    transport: { type: peer.transport.type, protocol: peer.transport.protocol, peer: peer.transport.peer },
  };
}
