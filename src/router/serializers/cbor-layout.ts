import { createLayoutBuilder, isProtoKey, nonStringKey, notAList, protoKey, tooDeep, type FrameLayout } from "./layout.js";

const SCALAR = 0;
const BYTES = 2;
const TEXT = 3;
const LIST = 4;
const DICT = 5;
const TAG = 6;
const BREAK = 8;
const BROKEN = -1;
const INDEFINITE = -1;

interface Header {
  kind: number;
  /** Argument: length, element count, tag number; INDEFINITE for indefinite lengths. */
  arg: number;
  /** Offset after the header (scalars: after the whole item). */
  next: number;
}

/** Reads the CBOR item header at `pos` (RFC 8949 §3); `kind` BROKEN when truncated or not well-formed. */
function readHeader(frame: Buffer, pos: number, h: Header): number {
  readInto(frame, pos, h);
  return h.kind;
}

function readInto(frame: Buffer, pos: number, h: Header): void {
  const n = frame.length;
  h.kind = BROKEN;
  if (pos >= n) return;
  const b = frame[pos]!;
  const major = b >> 5;
  const ai = b & 0x1f;
  let arg: number;
  let next: number;
  if (ai < 24) {
    arg = ai;
    next = pos + 1;
  } else if (ai === 24 && pos + 2 <= n) {
    arg = frame[pos + 1]!;
    next = pos + 2;
  } else if (ai === 25 && pos + 3 <= n) {
    arg = frame.readUInt16BE(pos + 1);
    next = pos + 3;
  } else if (ai === 26 && pos + 5 <= n) {
    arg = frame.readUInt32BE(pos + 1);
    next = pos + 5;
  } else if (ai === 27 && pos + 9 <= n) {
    arg = frame.readUInt32BE(pos + 1) * 0x1_0000_0000 + frame.readUInt32BE(pos + 5);
    next = pos + 9;
  } else if (ai === 31) {
    if (major === 7) {
      h.kind = BREAK;
      h.next = pos + 1;
      return;
    }
    if (major < BYTES || major > DICT) return; // integers and tags have no indefinite form
    arg = INDEFINITE;
    next = pos + 1;
  } else {
    return; // 28..30 are reserved, or the argument is truncated
  }
  h.arg = arg;
  h.next = next;
  if (major <= 1 || major === 7) {
    h.kind = SCALAR; // integers, simple values and floats: the argument bytes were the value
  } else if (major === BYTES || major === TEXT) {
    if (arg !== INDEFINITE && next + arg > n) return;
    h.kind = major;
  } else {
    h.kind = major; // list, dict, tag
  }
}

/**
 * Skips an indefinite-length string (a run of definite chunks of the same major type, then a
 * break); returns the offset after it, or -1 when it is not well-formed. `chunks` receives each
 * chunk's byte range (for reading a dict key).
 */
function skipChunks(frame: Buffer, pos: number, major: number, h: Header, chunks: number[] | undefined): number {
  for (;;) {
    readHeader(frame, pos, h);
    if (h.kind === BREAK) return h.next;
    if (h.kind !== major || h.arg === INDEFINITE) return -1;
    chunks?.push(h.next, h.next + h.arg);
    pos = h.next + h.arg;
  }
}

function isChunkedProtoKey(frame: Buffer, chunks: readonly number[]): boolean {
  let total = 0;
  for (let i = 0; i < chunks.length; i += 2) total += chunks[i + 1]! - chunks[i]!;
  if (total !== 9) return false;
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks.length; i += 2) parts.push(frame.subarray(chunks[i], chunks[i + 1]));
  const joined = Buffer.concat(parts);
  return isProtoKey(joined, 0, joined.length);
}

/** Layout of a CBOR frame: every item is visited once, containers (and tags) through an explicit stack. */
export function cborLayout(frame: Buffer, maxDepth: number): FrameLayout {
  const h: Header = { kind: BROKEN, arg: 0, next: 0 };
  const broken: FrameLayout = { kind: "malformed", reason: "not well-formed CBOR" };
  const first = readHeader(frame, 0, h);
  if (first === BROKEN || first === BREAK) return broken;
  if (first !== LIST) return { kind: "malformed", reason: notAList };
  const layout = createLayoutBuilder();
  const topCount = h.arg;
  // Open containers of the current element: items seen, items expected (INDEFINITE until a
  // break), and whether it is a dict (an even number seen means a key comes next). A tag is a
  // container of one item: decoders build an object around tagged values.
  const seen: number[] = [];
  const expected: number[] = [];
  const dict: boolean[] = [];
  let pos = h.next;
  for (let e = 0; topCount === INDEFINITE || e < topCount; e++) {
    if (readHeader(frame, pos, h) === BREAK && topCount === INDEFINITE) return layout.finish();
    layout.open(pos);
    do {
      const kind = readHeader(frame, pos, h);
      if (kind === BROKEN) return broken;
      const top = seen.length - 1;
      if (kind === BREAK) {
        // ends the innermost indefinite container, between a dict's pairs only
        if (top < 0 || expected[top] !== INDEFINITE || (dict[top] === true && seen[top]! % 2 !== 0)) return broken;
        expected[top] = seen[top]!; // complete: popped below
        pos = h.next;
      } else {
        const isKey = top >= 0 && dict[top] === true && seen[top]! % 2 === 0;
        if (top >= 0) seen[top] = seen[top]! + 1;
        if (kind === LIST || kind === DICT || kind === TAG) {
          if (seen.length + 1 > maxDepth) layout.refuse(tooDeep(maxDepth));
          if (isKey) layout.refuse(nonStringKey);
          seen.push(0);
          expected.push(kind === TAG ? 1 : h.arg === INDEFINITE ? INDEFINITE : kind === DICT ? h.arg * 2 : h.arg);
          dict.push(kind === DICT);
          pos = h.next;
        } else if (kind === BYTES || kind === TEXT) {
          const start = h.next;
          const length = h.arg;
          const chunks = isKey && kind === TEXT && length === INDEFINITE ? ([] as number[]) : undefined;
          pos = length === INDEFINITE ? skipChunks(frame, start, kind, h, chunks) : start + length;
          if (pos < 0) return broken;
          if (isKey) {
            if (kind !== TEXT) layout.refuse(nonStringKey);
            else if (chunks !== undefined ? isChunkedProtoKey(frame, chunks) : isProtoKey(frame, start, start + length)) layout.refuse(protoKey);
          }
        } else {
          if (isKey) layout.refuse(nonStringKey);
          pos = h.next;
        }
      }
      while (seen.length > 0 && seen[seen.length - 1] === expected[expected.length - 1]) {
        seen.pop();
        expected.pop();
        dict.pop();
      }
    } while (seen.length > 0);
    layout.close(pos);
  }
  return layout.finish();
}
