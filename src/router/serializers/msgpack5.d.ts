// Minimal typings for msgpack5 6 (the package ships none); only what the router uses.
declare module "msgpack5" {
  interface BufferListLike {
    slice(): Buffer;
  }
  interface MessagePack {
    encode(value: unknown): BufferListLike;
    decode(data: Buffer | BufferListLike): unknown;
  }
  interface Msgpack5Options {
    forceFloat64?: boolean;
    compatibilityMode?: boolean;
    sortKeys?: boolean;
    maxDepth?: number;
  }
  function msgpack5(options?: Msgpack5Options): MessagePack;
  export default msgpack5;
}
