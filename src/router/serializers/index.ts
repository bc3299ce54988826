import { cborSerializer } from "./cbor.js";
import { jsonSerializer } from "./json.js";
import { msgpackSerializer } from "./msgpack.js";
import type { Serializer, SerializerName } from "./serializer.js";

export type { Serializer, SerializerName } from "./serializer.js";

export const allSerializers: readonly Serializer[] = [jsonSerializer, msgpackSerializer, cborSerializer];

export function serializerForProtocol(protocol: string): Serializer | undefined {
  return allSerializers.find((s) => s.protocol === protocol);
}

export function serializersNamed(names: readonly SerializerName[]): Serializer[] {
  return allSerializers.filter((s) => names.includes(s.name));
}
