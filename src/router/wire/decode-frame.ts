import type { ElementLayout } from "../serializers/layout.js";
import type { Serializer } from "../serializers/index.js";

const refusedBrand: unique symbol = Symbol("refused element");

/** Stands in for an element of a message the router will not decode, and says why. */
export interface RefusedElement {
  readonly [refusedBrand]: true;
  readonly problem: string;
}

export function isRefused(value: unknown): value is RefusedElement {
  return typeof value === "object" && value !== null && refusedBrand in value;
}

const refused = (problem: string): RefusedElement => ({ [refusedBrand]: true, problem });

export type DecodedFrame =
  /** The message's elements; when `refusals` is set, some are RefusedElements. */
  | { readonly kind: "message"; readonly elements: readonly unknown[]; readonly refusals: boolean }
  /** The frame cannot be read as a list at all: a protocol violation. */
  | { readonly kind: "malformed"; readonly reason: string };

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 120);

/**
 * Frame → message elements. The serializer's layout comes first: elements nested deeper than
 * `maxDepth` or holding unacceptable dict keys are never decoded. When a binary decoder still
 * refuses a well-formed frame (an unknown msgpack extension, say), each element is decoded alone
 * so that only the offending ones are refused; JSON that JSON.parse refuses is malformed.
 */
export function decodeFrame(serializer: Serializer, frame: Buffer, maxDepth: number): DecodedFrame {
  const layout = serializer.layout(frame, maxDepth);
  if (layout.kind === "malformed") return layout;
  if (layout.kind === "refusals") return decodeElements(serializer, frame, layout.elements);
  let value: unknown;
  try {
    value = serializer.decode(frame);
  } catch (err) {
    if (!serializer.binary || layout.elements === undefined) return { kind: "malformed", reason: reasonOf(err) };
    return decodeElements(serializer, frame, layout.elements);
  }
  if (!Array.isArray(value)) return { kind: "malformed", reason: "a WAMP message must be a list" };
  return { kind: "message", elements: value, refusals: false };
}

function decodeElements(serializer: Serializer, frame: Buffer, layout: readonly ElementLayout[]): DecodedFrame {
  const elements = layout.map((e): unknown => {
    if (e.problem !== undefined) return refused(e.problem);
    try {
      return serializer.decodeElement(frame, e.start, e.end);
    } catch (err) {
      return refused(reasonOf(err));
    }
  });
  return { kind: "message", elements, refusals: true };
}
