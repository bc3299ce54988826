import cbor from "cbor";
import { describe, expect, it } from "vitest";
import { allSerializers, type Serializer } from "./index.js";
import { nonStringKey, protoKey, tooDeep, type FrameLayout } from "./layout.js";

const byName = (name: string): Serializer => allSerializers.find((s) => s.name === name)!;
const frameOf = (s: Serializer, message: unknown[]): Buffer => {
  const encoded = s.encode(message);
  return typeof encoded === "string" ? Buffer.from(encoded) : encoded;
};
const nest = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
};
/** A list nested `depth` deep around 1, written byte by byte (encoders recurse; this must not). */
const deepFrame: Record<string, (depth: number) => Buffer> = {
  json: (depth) => Buffer.from(`[48,1,{},"p",[${"[".repeat(depth - 1)}1${"]".repeat(depth - 1)}]]`),
  msgpack: (depth) => Buffer.concat([Buffer.from([0x95, 48, 1, 0x80, 0xa1, 0x70]), Buffer.alloc(depth, 0x91), Buffer.from([1])]),
  cbor: (depth) => Buffer.concat([Buffer.from([0x85, 0x18, 48, 1, 0xa0, 0x61, 0x70]), Buffer.alloc(depth, 0x81), Buffer.from([1])]),
};
const problems = (layout: FrameLayout): (string | undefined)[] | string =>
  layout.kind === "malformed" ? layout.reason : (layout.elements ?? []).map((e) => e.problem);

describe.each(["json", "msgpack", "cbor"])("%s layout", (name) => {
  const s = byName(name);

  it("gives each element's byte range, which decodes to that element", () => {
    const message: unknown[] = [48, 2 ** 40, { receive_progress: true }, "com.example.p", [1, "two", { three: [3] }], { k: { nested: [null, true, 0.5] } }];
    // Long enough that even JSON takes the full walk.
    message.push({ filler: "x".repeat(200) });
    const frame = frameOf(s, message);
    const layout = s.layout(frame, 64);
    expect(layout.kind).toBe("clean");
    const elements = layout.kind === "clean" ? layout.elements : undefined;
    expect(elements?.map((e) => s.decodeElement(frame, e.start, e.end))).toEqual(message);
  });

  it("refuses exactly the elements nested deeper than the limit, counting a list or dict element as level 1", () => {
    const at = (depth: number) => s.layout(frameOf(s, [48, 1, {}, "p", [nest(depth - 1)], { ok: 1 }, "x".repeat(200)]), 8);
    expect(problems(at(8))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(problems(at(9))).toEqual([undefined, undefined, undefined, undefined, tooDeep(8), undefined, undefined]);
  });

  it("walks 100,000 levels without recursion", () => {
    const layout = s.layout(deepFrame[name]!(100_000), 64);
    expect(problems(layout)).toEqual([undefined, undefined, undefined, undefined, tooDeep(64)]);
  });

  it("refuses a __proto__ dict key anywhere, but not a __proto__ value", () => {
    const protoDict = name === "json" ? (JSON.parse('{"a": {"__proto__": {"x": 1}}}') as unknown) : new Map([["a", new Map([["__proto__", 1]])]]);
    expect(problems(s.layout(frameOf(s, [48, 1, {}, "p", [], protoDict]), 64))).toEqual([undefined, undefined, undefined, undefined, undefined, protoKey]);
    expect(s.layout(frameOf(s, [48, 1, {}, "p", ["__proto__"], { k: "__proto__" }]), 64).kind).toBe("clean");
  });

  it("says a frame that is not a list is malformed", () => {
    expect(s.layout(frameOf(s, { 0: 48, pad: "x".repeat(200) } as unknown as unknown[]), 64).kind).toBe("malformed");
  });
});

describe("JSON specifics", () => {
  const json = byName("json");
  it("reads a __proto__ key spelled with escapes", () => {
    const frame = Buffer.from('[48,1,{},"p",[],{"\\u005f_proto__":1}]');
    expect(problems(json.layout(frame, 64))).toEqual([undefined, undefined, undefined, undefined, undefined, protoKey]);
  });
  it("skips the walk when a frame is too short to break any rule", () => {
    expect(json.layout(Buffer.from('[48,1,{},"p",[1]]'), 64)).toEqual({ kind: "clean" });
  });
});

describe("binary specifics", () => {
  it("refuses dict keys that are not strings", () => {
    for (const name of ["msgpack", "cbor"]) {
      const s = byName(name);
      const frame = frameOf(s, [48, 1, {}, "p", [new Map([[1, "one"]])]]);
      expect(problems(s.layout(frame, 64)), name).toEqual([undefined, undefined, undefined, undefined, nonStringKey]);
    }
  });

  it("reads an indefinite-length CBOR text key", () => {
    // {_ "__pr" "oto__"} as an indefinite text string key, value 1; list of 2: [48, that map]
    const key = Buffer.concat([Buffer.from([0x7f, 0x64]), Buffer.from("__pr"), Buffer.from([0x65]), Buffer.from("oto__"), Buffer.from([0xff])]);
    const frame = Buffer.concat([Buffer.from([0x82, 0x18, 48, 0xa1]), key, Buffer.from([0x01])]);
    expect(problems(byName("cbor").layout(frame, 64))).toEqual([undefined, protoKey]);
    expect(cbor.decodeFirstSync(frame)).toBeDefined();
  });

  it("says truncated and reserved encodings are malformed", () => {
    expect(byName("msgpack").layout(Buffer.from([0x93, 0x01, 0xc1]), 64)).toMatchObject({ kind: "malformed" });
    expect(byName("msgpack").layout(Buffer.from([0x92, 0x01, 0xda, 0x00, 0x05, 0x61]), 64)).toMatchObject({ kind: "malformed" });
    expect(byName("cbor").layout(Buffer.from([0x83, 0x01, 0x1c]), 64)).toMatchObject({ kind: "malformed" });
    expect(byName("cbor").layout(Buffer.from([0x82, 0x01, 0x9f, 0x01]), 64)).toMatchObject({ kind: "malformed" });
  });
});
