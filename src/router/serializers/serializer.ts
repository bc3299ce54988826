import type { FrameLayout } from "./layout.js";

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
  /** Decodes a whole frame; throws on malformed input. Run only after `layout` found nothing to refuse. */
  decode(frame: Buffer): unknown;
  /** Decodes one element of a message from its byte range (see `layout`); throws on malformed input. */
  decodeElement(frame: Buffer, start: number, end: number): unknown;
  /**
   * Walks the frame without building values and without recursion: where the message's elements
   * lie and which of them nest deeper than `maxDepth` or hold a key that is not a string or is
   * `__proto__`. Nothing with an unbounded depth is handed to a decoder.
   */
  layout(frame: Buffer, maxDepth: number): FrameLayout;
}
