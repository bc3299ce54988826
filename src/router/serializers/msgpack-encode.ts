/**
 * A msgpack encoder for WAMP values. msgpack5 (used for decoding) encodes integers above
 * 2^53 - 1 as float64, which breaks the WAMP id 2^53 for Python peers; here every integer-valued
 * number below 2^64 in magnitude is encoded as a msgpack integer, other numbers as float64.
 */
const SHIFT32 = 0x1_0000_0000;

class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
}

function writeNumber(w: Writer, n: number): void {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 64) {
    if (n >= 0) {
      if (n < 128) return w.byte(n);
      w.ensure(9);
      if (n < 256) {
        w.buf[w.pos++] = 0xcc;
        w.buf[w.pos++] = n;
      } else if (n < 65536) {
        w.buf[w.pos++] = 0xcd;
        w.pos = w.buf.writeUInt16BE(n, w.pos);
      } else if (n < SHIFT32) {
        w.buf[w.pos++] = 0xce;
        w.pos = w.buf.writeUInt32BE(n, w.pos);
      } else {
        w.buf[w.pos++] = 0xcf;
        w.pos = w.buf.writeUInt32BE(Math.floor(n / SHIFT32), w.pos);
        w.pos = w.buf.writeUInt32BE(n % SHIFT32, w.pos);
      }
      return;
    }
    if (n >= -32) return w.byte(0x100 + n);
    w.ensure(9);
    if (n >= -128) {
      w.buf[w.pos++] = 0xd0;
      w.pos = w.buf.writeInt8(n, w.pos);
    } else if (n >= -32768) {
      w.buf[w.pos++] = 0xd1;
      w.pos = w.buf.writeInt16BE(n, w.pos);
    } else if (n >= -2147483648) {
      w.buf[w.pos++] = 0xd2;
      w.pos = w.buf.writeInt32BE(n, w.pos);
    } else if (n >= -(2 ** 63)) {
      w.buf[w.pos++] = 0xd3;
      w.pos = w.buf.writeBigInt64BE(BigInt(n), w.pos);
    } else {
      w.buf[w.pos++] = 0xcb;
      w.pos = w.buf.writeDoubleBE(n, w.pos);
    }
    return;
  }
  w.ensure(9);
  w.buf[w.pos++] = 0xcb;
  w.pos = w.buf.writeDoubleBE(n, w.pos);
}

function writeHeader(w: Writer, length: number, fix: number, fixMax: number, b8: number | undefined, b16: number, b32: number): void {
  w.ensure(5);
  if (length < fixMax) w.buf[w.pos++] = fix | length;
  else if (b8 !== undefined && length < 256) {
    w.buf[w.pos++] = b8;
    w.buf[w.pos++] = length;
  } else if (length < 65536) {
    w.buf[w.pos++] = b16;
    w.pos = w.buf.writeUInt16BE(length, w.pos);
  } else {
    w.buf[w.pos++] = b32;
    w.pos = w.buf.writeUInt32BE(length, w.pos);
  }
}

function writeString(w: Writer, s: string): void {
  const length = Buffer.byteLength(s, "utf8");
  writeHeader(w, length, 0xa0, 32, 0xd9, 0xda, 0xdb);
  w.ensure(length);
  w.pos += w.buf.write(s, w.pos, "utf8");
}

function writeValue(w: Writer, v: unknown): void {
  switch (typeof v) {
    case "number":
      return writeNumber(w, v);
    case "string":
      return writeString(w, v);
    case "boolean":
      return w.byte(v ? 0xc3 : 0xc2);
    case "bigint":
      return writeNumber(w, Number(v));
    case "undefined":
      return w.byte(0xc0);
    case "object": {
      if (v === null) return w.byte(0xc0);
      if (Array.isArray(v)) {
        writeHeader(w, v.length, 0x90, 16, undefined, 0xdc, 0xdd);
        for (const item of v) writeValue(w, item);
        return;
      }
      if (v instanceof Uint8Array) {
        w.ensure(5 + v.length);
        if (v.length < 256) {
          w.buf[w.pos++] = 0xc4;
          w.buf[w.pos++] = v.length;
        } else if (v.length < 65536) {
          w.buf[w.pos++] = 0xc5;
          w.pos = w.buf.writeUInt16BE(v.length, w.pos);
        } else {
          w.buf[w.pos++] = 0xc6;
          w.pos = w.buf.writeUInt32BE(v.length, w.pos);
        }
        w.buf.set(v, w.pos);
        w.pos += v.length;
        return;
      }
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v).filter(([, x]) => x !== undefined);
      writeHeader(w, entries.length, 0x80, 16, undefined, 0xde, 0xdf);
      for (const [key, value] of entries) {
        writeValue(w, key);
        writeValue(w, value);
      }
      return;
    }
    default:
      throw new TypeError(`cannot encode a ${typeof v} in msgpack`);
  }
}

export function encodeMsgpack(value: unknown): Buffer {
  const w = new Writer();
  writeValue(w, value);
  return w.buf.subarray(0, w.pos);
}
