import { createLayoutBuilder, isProtoKey, notAList, protoKey, tooDeep, type FrameLayout } from "./layout.js";

const clean: FrameLayout = { kind: "clean" };

/**
 * A frame too short to nest past the limit, with no escape and no `__` (as in `__proto__`),
 * cannot break any rule. One loop in JS: cheaper for short frames than native searches.
 */
function obviouslyClean(frame: Buffer, maxDepth: number): boolean {
  const n = frame.length;
  if (n >= 2 * maxDepth + 4) return false;
  for (let i = 0; i < n; i++) {
    const c = frame[i];
    if (c === 0x5c || (c === 0x5f && frame[i + 1] === 0x5f)) return false;
  }
  return true;
}

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(frame: Buffer, i: number): number {
  while (i < frame.length && isSpace(frame[i])) i++;
  return i;
}

/** A dict key spelled with escapes (`"\u005f_proto__"`) is read with JSON.parse; short keys only. */
function isEscapedProtoKey(frame: Buffer, quoteStart: number, quoteEnd: number): boolean {
  if (quoteEnd - quoteStart > 64) return false;
  try {
    return JSON.parse(frame.toString("utf8", quoteStart, quoteEnd + 1)) === "__proto__";
  } catch {
    return false; // malformed: the decoder will say so
  }
}

/**
 * Layout of a JSON frame (a UTF-8 text: structural characters are ASCII, so bytes suffice).
 * Brackets are counted, not matched: JSON.parse, which runs afterwards, rejects what is not JSON.
 */
export function jsonLayout(frame: Buffer, maxDepth: number): FrameLayout {
  if (obviouslyClean(frame, maxDepth)) return clean;
  const n = frame.length;
  let i = skipSpace(frame, 0);
  if (frame[i] !== 0x5b) return { kind: "malformed", reason: notAList };
  const layout = createLayoutBuilder();
  // isDict[level] = 1 when the container at that level is a dict; levels past the limit are not
  // tracked (their element is refused anyway). Level 1 is the message list itself.
  const isDict = new Uint8Array(maxDepth + 2);
  let level = 1;
  let inElement = false;
  let elementEnd = 0;
  for (i++; i < n; i++) {
    const c = frame[i]!;
    if (isSpace(c)) continue;
    if (level === 1) {
      if (c === 0x2c) {
        if (inElement) layout.close(elementEnd);
        inElement = false;
        continue;
      }
      if (c === 0x5d) {
        if (inElement) layout.close(elementEnd);
        return layout.finish();
      }
      if (!inElement) {
        layout.open(i);
        inElement = true;
      }
    }
    if (c === 0x22) {
      const open = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = frame[i];
        if (d === 0x5c) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (i >= n) return { kind: "malformed", reason: "unterminated string" };
      if (level > 1 && level <= maxDepth + 1 && isDict[level] === 1 && frame[skipSpace(frame, i + 1)] === 0x3a) {
        if (escaped ? isEscapedProtoKey(frame, open, i) : isProtoKey(frame, open + 1, i)) layout.refuse(protoKey);
      }
    } else if (c === 0x5b || c === 0x7b) {
      level++;
      if (level - 1 > maxDepth) layout.refuse(tooDeep(maxDepth));
      else isDict[level] = c === 0x7b ? 1 : 0;
    } else if (c === 0x5d || c === 0x7d) {
      level--;
      if (level === 0) return { kind: "malformed", reason: "unbalanced brackets" };
    }
    elementEnd = i + 1;
  }
  return { kind: "malformed", reason: "unterminated list" };
}
