/**
 * What a serializer reports about a frame before anything is decoded: where each element of the
 * message list lies, and whether an element breaks a rule the router applies to every payload
 * (nesting depth, dict keys). Found by a loop over the bytes with an explicit stack, never by
 * recursion, so no frame can exhaust the call stack however deep it nests.
 */
export type FrameLayout =
  /**
   * Nothing to refuse: decode the frame as a whole. `elements` is left out when a quick check
   * showed there was nothing to look for.
   */
  | { readonly kind: "clean"; readonly elements?: readonly ElementLayout[] }
  /** At least one element breaks a rule; the others can be decoded one by one. */
  | { readonly kind: "refusals"; readonly elements: readonly ElementLayout[] }
  /** Not a well-formed encoding of a list: the frame cannot be read at all. */
  | { readonly kind: "malformed"; readonly reason: string };

export interface ElementLayout {
  /** Byte range of the element within the frame. */
  readonly start: number;
  readonly end: number;
  /** Why the element is refused, if it is. */
  readonly problem: string | undefined;
}

/** Collects element ranges and problems while a scanner walks a frame. */
export interface LayoutBuilder {
  open(start: number): void;
  close(end: number): void;
  /** Records a problem of the element being scanned; the first one wins. */
  refuse(problem: string): void;
  /** `malformed` when no list could be read, else the layout. */
  finish(): FrameLayout;
}

export function createLayoutBuilder(): LayoutBuilder {
  const elements: ElementLayout[] = [];
  let start = -1;
  let problem: string | undefined;
  let refused = false;
  return {
    open(at) {
      start = at;
      problem = undefined;
    },
    close(end) {
      elements.push({ start, end, problem });
      if (problem !== undefined) refused = true;
    },
    refuse(why) {
      problem ??= why;
    },
    finish() {
      return refused ? { kind: "refusals", elements } : { kind: "clean", elements };
    },
  };
}

/** The largest nesting limit a router accepts: every encoder and decoder used here copes with it. */
export const maxNestingLimit = 1000;
/** The smallest: protocol dicts nest too (HELLO's details.roles.<role>.features is 4 levels). */
export const minNestingLimit = 8;

export const tooDeep = (maxDepth: number): string => `nested deeper than ${maxDepth} levels (the router's limit)`;
export const protoKey = "dict key '__proto__' is not allowed";
export const nonStringKey = "dict keys must be strings";
export const notAList = "a WAMP message must be a list";

const PROTO = Buffer.from("__proto__");

/** True when bytes [start, end) of `frame` spell `__proto__`. */
export function isProtoKey(frame: Buffer, start: number, end: number): boolean {
  return end - start === PROTO.length && frame.compare(PROTO, 0, PROTO.length, start, end) === 0;
}
