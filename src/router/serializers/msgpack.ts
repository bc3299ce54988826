import msgpack5 from "msgpack5";
import { encodeMsgpack } from "./msgpack-encode.js";
import type { Serializer } from "./serializer.js";

// Decoding with msgpack5 (uint64 up to 2^53 decode to exact numbers); encoding with our own
// encoder, because msgpack5 writes integers above 2^53 - 1 (the WAMP id 2^53) as float64.
const codec = msgpack5({ forceFloat64: true });

export const msgpackSerializer: Serializer = {
  name: "msgpack",
  protocol: "wamp.2.msgpack",
  binary: true,
  encode: (message) => encodeMsgpack(message),
  decode: (frame) => codec.decode(frame),
};
