/**
 * A WAMP serializer turns a message (a JS array) into one WebSocket frame and back.
 * `binary` decides the frame type: JSON travels in text frames, msgpack and CBOR in binary ones.
 * Every serializer keeps integers up to 2^53 as integers (never floats), so ids round-trip.
 */
export type SerializerName = "json" | "msgpack" | "cbor";

export interface Serializer {
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. `wamp.2.json`. */
  readonly protocol: string;
  readonly binary: boolean;
  encode(message: readonly unknown[]): string | Buffer;
  /** Throws on malformed input; the session turns that into a protocol violation. */
  decode(frame: Buffer): unknown;
}
