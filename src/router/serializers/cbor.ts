import cbor from "cbor";
import { cborLayout } from "./cbor-layout.js";
import type { Serializer } from "./serializer.js";

const SHIFT32 = 0x1_0000_0000;
const TWO_POW_64 = 2 ** 64;
/** Larger than any frame the router sends (incoming frames are limited to a few MiB). */
const encodeHighWaterMark = 1024 * 1024 * 1024;

/**
 * hildjj `cbor` encodes integers above 2^53 - 1 (2^53 itself, a valid WAMP id) as floats; this
 * encoder writes every integer-valued number below 2^64 as a CBOR integer instead.
 */
class IntegerPreservingEncoder extends cbor.Encoder {
  override _pushInt(obj: number, mt: number, orig?: number): boolean {
    if (obj > Number.MAX_SAFE_INTEGER - (mt === 1 ? 1 : 0) && obj < TWO_POW_64 && Number.isInteger(obj)) {
      return this._pushUInt8((mt << 5) | 27) && this._pushUInt32BE(Math.floor(obj / SHIFT32)) && this._pushUInt32BE(obj % SHIFT32);
    }
    return super._pushInt(obj, mt, orig);
  }
}

/** hildjj `cbor` decodes integers >= 2^53 as BigInt; WAMP values are JS numbers. */
function numbersOnly(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === "bigint" || (typeof v === "object" && v !== null)) value[i] = numbersOnly(v);
    }
    return value;
  }
  if (typeof value === "object" && value !== null && !Buffer.isBuffer(value) && !(value instanceof Map)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      if (typeof v === "bigint" || (typeof v === "object" && v !== null)) record[key] = numbersOnly(v);
    }
  }
  return value;
}

export const cborSerializer: Serializer = {
  name: "cbor",
  protocol: "wamp.2.cbor",
  binary: true,
  encode: (message) => {
    // _encodeAll is what cbor.encodeOne runs, on our subclass. It pipes into a buffer that stops
    // reading at the stream's highWaterMark (16 KiB by default), so a bigger message came out
    // truncated: the mark must exceed any message we send.
    // (`highWaterMark` reaches the stream constructor; the typings do not list it.)
    const encoder = new IntegerPreservingEncoder({ highWaterMark: encodeHighWaterMark } as ConstructorParameters<typeof cbor.Encoder>[0]) as unknown as { _encodeAll(objs: unknown[]): Buffer };
    return encoder._encodeAll([message]);
  },
  decode: (frame) => numbersOnly(cbor.decodeFirstSync(frame)),
  decodeElement: (frame, start, end) => numbersOnly(cbor.decodeFirstSync(frame.subarray(start, end))),
  layout: cborLayout,
};
