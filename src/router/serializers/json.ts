import { jsonLayout } from "./json-layout.js";
import type { Serializer } from "./serializer.js";

/*
 * WAMP's JSON binary convention: a byte string travels as a string starting with "\0" followed by
 * its base64. The replacer/reviver only run when a message actually carries binary, detected by a
 * cheap substring check, so plain messages keep the native JSON fast path.
 */
const BUFFER_JSON = '{"type":"Buffer","data":[';
const NUL_ESCAPE = "\\u0000";

function binaryReplacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return `\u0000${Buffer.from(original).toString("base64")}`;
  return value;
}

function binaryReviver(_key: string, value: unknown): unknown {
  if (typeof value === "string" && value.charCodeAt(0) === 0) return Buffer.from(value.slice(1), "base64");
  return value;
}

export const jsonSerializer: Serializer = {
  name: "json",
  protocol: "wamp.2.json",
  binary: false,
  encode: (message) => {
    const text = JSON.stringify(message);
    return text.includes(BUFFER_JSON) ? JSON.stringify(message, binaryReplacer) : text;
  },
  decode: (frame) => parseText(frame.toString("utf8")),
  decodeElement: (frame, start, end) => parseText(frame.toString("utf8", start, end)),
  layout: jsonLayout,
};

function parseText(text: string): unknown {
  return (text.includes(NUL_ESCAPE) ? JSON.parse(text, binaryReviver) : JSON.parse(text)) as unknown;
}
