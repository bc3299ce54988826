import { createLayoutBuilder, isProtoKey, nonStringKey, notAList, protoKey, tooDeep, type FrameLayout } from "./layout.js";

const SCALAR = 0;
const STRING = 1;
const LIST = 2;
const DICT = 3;
const BROKEN = -1;

/** One item header, read into reused fields rather than a fresh object per item. */
interface Header {
  kind: number;
  /** Element count (list, dict) or byte length (string). */
  length: number;
  /** Offset after the header (scalars: after the whole item). */
  next: number;
}

/** Reads the msgpack item header at `pos` (msgpack spec, "formats"); `kind` BROKEN when truncated or reserved. */
function readHeader(frame: Buffer, pos: number, h: Header): number {
  readInto(frame, pos, h);
  return h.kind;
}

function readInto(frame: Buffer, pos: number, h: Header): void {
  h.kind = BROKEN;
  if (pos >= frame.length) return;
  const b = frame[pos]!;
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return fixed(frame, pos, h, 1);
  if (b <= 0x8f) return set(h, DICT, b & 0x0f, pos + 1);
  if (b <= 0x9f) return set(h, LIST, b & 0x0f, pos + 1);
  if (b <= 0xbf) {
    if (pos + 1 + (b & 0x1f) <= frame.length) set(h, STRING, b & 0x1f, pos + 1);
    return;
  }
  switch (b) {
    case 0xc4: return sized(frame, pos, h, SCALAR, 2, 0);
    case 0xc5: return sized(frame, pos, h, SCALAR, 3, 0);
    case 0xc6: return sized(frame, pos, h, SCALAR, 5, 0);
    case 0xc7: return sized(frame, pos, h, SCALAR, 3, 1);
    case 0xc8: return sized(frame, pos, h, SCALAR, 4, 1);
    case 0xc9: return sized(frame, pos, h, SCALAR, 6, 1);
    case 0xca: return fixed(frame, pos, h, 5);
    case 0xcb: return fixed(frame, pos, h, 9);
    case 0xcc: return fixed(frame, pos, h, 2);
    case 0xcd: return fixed(frame, pos, h, 3);
    case 0xce: return fixed(frame, pos, h, 5);
    case 0xcf: return fixed(frame, pos, h, 9);
    case 0xd0: return fixed(frame, pos, h, 2);
    case 0xd1: return fixed(frame, pos, h, 3);
    case 0xd2: return fixed(frame, pos, h, 5);
    case 0xd3: return fixed(frame, pos, h, 9);
    case 0xd4: return fixed(frame, pos, h, 3);
    case 0xd5: return fixed(frame, pos, h, 4);
    case 0xd6: return fixed(frame, pos, h, 6);
    case 0xd7: return fixed(frame, pos, h, 10);
    case 0xd8: return fixed(frame, pos, h, 18);
    case 0xd9: return sized(frame, pos, h, STRING, 2, 0);
    case 0xda: return sized(frame, pos, h, STRING, 3, 0);
    case 0xdb: return sized(frame, pos, h, STRING, 5, 0);
    case 0xdc: return sized(frame, pos, h, LIST, 3, 0);
    case 0xdd: return sized(frame, pos, h, LIST, 5, 0);
    case 0xde: return sized(frame, pos, h, DICT, 3, 0);
    case 0xdf: return sized(frame, pos, h, DICT, 5, 0);
    default: return; // 0xc1 is reserved
  }
}

/** A scalar of `size` bytes in all. */
function fixed(frame: Buffer, pos: number, h: Header, size: number): void {
  if (pos + size > frame.length) return;
  h.kind = SCALAR;
  h.next = pos + size;
}

/**
 * An item whose header holds a length in its last bytes (`extra` bytes follow it: an ext's type).
 * bin and ext count as scalars whose data is skipped; a string's data must be in the frame.
 */
function sized(frame: Buffer, pos: number, h: Header, kind: number, headerBytes: number, extra: number): void {
  if (pos + headerBytes > frame.length) return;
  const width = headerBytes - 1 - extra;
  const length = width === 1 ? frame[pos + 1]! : width === 2 ? frame.readUInt16BE(pos + 1) : frame.readUInt32BE(pos + 1);
  let next = pos + headerBytes;
  if (kind === SCALAR) next += length;
  if (next > frame.length || (kind === STRING && next + length > frame.length)) return;
  set(h, kind, length, next);
}

function set(h: Header, kind: number, length: number, next: number): void {
  h.kind = kind;
  h.length = length;
  h.next = next;
}

/** Layout of a msgpack frame: every item is visited once, containers through an explicit stack. */
export function msgpackLayout(frame: Buffer, maxDepth: number): FrameLayout {
  const h: Header = { kind: BROKEN, length: 0, next: 0 };
  const first = readHeader(frame, 0, h);
  if (first !== LIST) return { kind: "malformed", reason: first === BROKEN ? "truncated or reserved byte" : notAList };
  const layout = createLayoutBuilder();
  // Open containers of the current element: items still to come, and whether it is a dict
  // (a dict of n pairs has 2n items; an even count left means a key comes next).
  const left: number[] = [];
  const dict: boolean[] = [];
  let pos = h.next;
  for (let e = h.length; e > 0; e--) {
    layout.open(pos);
    do {
      const kind = readHeader(frame, pos, h);
      if (kind === BROKEN) return { kind: "malformed", reason: "truncated or reserved byte" };
      const top = left.length - 1;
      if (top >= 0) {
        if (dict[top] === true && left[top]! % 2 === 0) {
          if (kind !== STRING) layout.refuse(nonStringKey);
          else if (isProtoKey(frame, h.next, h.next + h.length)) layout.refuse(protoKey);
        }
        left[top] = left[top]! - 1;
      }
      if (kind === LIST || kind === DICT) {
        if (left.length + 1 > maxDepth) layout.refuse(tooDeep(maxDepth));
        left.push(kind === DICT ? h.length * 2 : h.length);
        dict.push(kind === DICT);
        pos = h.next;
      } else {
        pos = kind === STRING ? h.next + h.length : h.next;
      }
      while (left.length > 0 && left[left.length - 1] === 0) {
        left.pop();
        dict.pop();
      }
    } while (left.length > 0);
    layout.close(pos);
  }
  return layout.finish();
}
