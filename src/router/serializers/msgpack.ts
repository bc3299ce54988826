import msgpack5 from "msgpack5";
import { maxNestingLimit } from "./layout.js";
import { msgpackLayout } from "./msgpack-layout.js";
import { encodeMsgpack } from "./msgpack-encode.js";
import type { Serializer } from "./serializer.js";

// Decoding with msgpack5 (uint64 up to 2^53 decode to exact numbers); encoding with our own
// encoder, because msgpack5 writes integers above 2^53 - 1 (the WAMP id 2^53) as float64.
// msgpack5's own depth limit (100 by default) sits above the router's, which `layout` enforces first.
const codec = msgpack5({ forceFloat64: true, maxDepth: maxNestingLimit + 2 });

export const msgpackSerializer: Serializer = {
  name: "msgpack",
  protocol: "wamp.2.msgpack",
  binary: true,
  encode: (message) => encodeMsgpack(message),
  decode: (frame) => codec.decode(frame),
  decodeElement: (frame, start, end) => codec.decode(frame.subarray(start, end)),
  layout: msgpackLayout,
};
