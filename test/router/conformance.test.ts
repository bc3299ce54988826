// WAMP spec points found by an outside conformance check (issue 11), with raw frames over a real
// WebSocket on every serializer: caller disclosure, progressive results and their timeout, ids,
// answers to invocations never issued, and payloads the router refuses without ending the session.
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createRouter, type Router } from "../../src/router/index.js";
import { RawClient, serializerNames, sleep, startRouter } from "./helpers.js";

let router: Router;
let url: string;
const logged: string[] = [];
beforeAll(async () => {
  // A plain `true` from the authorizer: Crossbar's "allowed, nothing disclosed" (an embedding's authorizer).
  ({ router, url } = await startRouter({
    anonymous: { role: "user" },
    authorizer: () => true,
    logger: pino({ level: "debug" }, new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) })),
  }));
});
afterAll(async () => {
  await router.close();
});

async function joined(serializer: string, roles?: Record<string, unknown>): Promise<RawClient> {
  const c = await RawClient.open(url, serializer);
  expect((await c.join(roles ? { roles } : {}))[0]).toBe(2);
  return c;
}

async function register(callee: RawClient, procedure: string, options: Record<string, unknown> = {}, requestId = 1): Promise<void> {
  callee.send([64, requestId, options, procedure]);
  expect((await callee.next((m) => m[0] === 65 || m[0] === 8))[0]).toBe(65);
}

async function expectViolation(c: RawClient): Promise<void> {
  const abort = await c.next((m) => m[0] === 3);
  expect(abort[2]).toBe("wamp.error.protocol_violation");
  await c.closed();
}

/** The session still answers: a meta call round-trips. */
async function stillServes(c: RawClient, requestId: number): Promise<void> {
  c.send([48, requestId, {}, "wamp.session.count"]);
  expect((await c.next((m) => (m[0] === 50 && m[1] === requestId) || (m[0] === 8 && m[2] === requestId)))[0]).toBe(50);
}

const nested = (depth: number): unknown => {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
};

describe.each(serializerNames)("over %s", (serializer) => {
  const uri = (name: string): string => `conf.${serializer}.${name}`;

  it("honours REGISTER disclose_caller: the callee learns the caller without disclose_me", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("who"), { disclose_caller: true }, 1);
    await register(callee, uri("anon"), {}, 2);
    caller.send([48, 1, {}, uri("who")]);
    const disclosed = await callee.next((m) => m[0] === 68);
    callee.send([70, disclosed[1], {}]);
    expect(disclosed[3]).toEqual({ caller: expect.any(Number), caller_authid: expect.stringMatching(/^anonymous-/), caller_authrole: "user" });
    caller.send([48, 2, {}, uri("anon")]);
    const plain = await callee.next((m) => m[0] === 68);
    callee.send([70, plain[1], {}]);
    expect(plain[3]).toEqual({});
    await caller.next((m) => m[0] === 50 && m[1] === 2);
    callee.close();
    caller.close();
  });

  it("runs a call's timeout between progressive results, not over the whole call", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("stream"));
    // 8 results 150 ms apart: 1.2 s in all, twice the 600 ms timeout.
    caller.send([48, 1, { receive_progress: true, timeout: 600 }, uri("stream")]);
    const inv = await callee.next((m) => m[0] === 68);
    expect(inv[3]).toEqual({ receive_progress: true });
    for (let i = 1; i <= 8; i++) {
      await sleep(150);
      callee.send([70, inv[1], { progress: true }, [i]]);
    }
    callee.send([70, inv[1], {}, ["done"]]);
    const final = await caller.next((m) => m[1] === 1 && (m[0] === 8 || (m[0] === 50 && !(m[2] as { progress?: boolean }).progress)));
    expect(final).toEqual([50, 1, {}, ["done"]]);
    expect(caller.messages.filter((m) => m[0] === 50 && m[1] === 1).map((m) => (m[3] as number[])[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // A gap longer than the timeout still times the call out.
    caller.send([48, 2, { receive_progress: true, timeout: 300 }, uri("stream")]);
    const slow = await callee.next((m) => m[0] === 68);
    const timedOut = await caller.next((m) => m[0] === 8 && m[2] === 2, 3000);
    expect(timedOut[4]).toBe("wamp.error.timeout");
    expect((await callee.next((m) => m[0] === 69))[1]).toBe(slow[1]);
    callee.close();
    caller.close();
  });

  it("offers progressive results only to a callee that also announces call canceling", async () => {
    const uninterruptible = await joined(serializer, { callee: { features: { progressive_call_results: true } } });
    const caller = await joined(serializer);
    await register(uninterruptible, uri("no-cancel"));
    caller.send([48, 1, { receive_progress: true }, uri("no-cancel")]);
    const inv = await uninterruptible.next((m) => m[0] === 68);
    expect(inv[3]).toEqual({});
    uninterruptible.send([70, inv[1], { progress: true }, ["ignored"]]);
    uninterruptible.send([70, inv[1], {}, ["final"]]);
    expect(await caller.next((m) => m[0] === 50)).toEqual([50, 1, {}, ["final"]]);
    await sleep(50);
    expect(caller.messages).toEqual([]);
    uninterruptible.close();
    caller.close();
  });

  it("aborts on request id 0 (ids are 1 to 2^53)", async () => {
    const c = await joined(serializer);
    c.send([48, 0, {}, "wamp.session.count"]);
    await expectViolation(c);
    const d = await joined(serializer);
    d.send([32, 0, {}, "some.topic"]);
    await expectViolation(d);
  });

  it("aborts on a YIELD or ERROR for an invocation never issued, and drops late ones quietly", async () => {
    const fresh = await joined(serializer);
    fresh.send([70, 1, {}, ["nobody asked"]]);
    await expectViolation(fresh);

    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("late"));
    // Late after a skip cancel, after a killnowait cancel, after a timeout: dropped, session kept.
    caller.send([48, 10, {}, uri("late")]);
    const skipped = await callee.next((m) => m[0] === 68);
    caller.send([49, 10, { mode: "skip" }]);
    expect((await caller.next((m) => m[0] === 8 && m[2] === 10))[4]).toBe("wamp.error.canceled");
    callee.send([70, skipped[1], {}, ["late"]]);
    caller.send([48, 11, {}, uri("late")]);
    const killed = await callee.next((m) => m[0] === 68);
    caller.send([49, 11, { mode: "killnowait" }]);
    await callee.next((m) => m[0] === 69 && m[1] === killed[1]);
    callee.send([8, 68, killed[1], {}, "wamp.error.canceled"]);
    caller.send([48, 12, { timeout: 100 }, uri("late")]);
    const timed = await callee.next((m) => m[0] === 68);
    expect((await caller.next((m) => m[0] === 8 && m[2] === 12))[4]).toBe("wamp.error.timeout");
    callee.send([70, timed[1], {}, ["too late"]]);
    await stillServes(callee, 99);
    expect(caller.messages.filter((m) => m[0] === 50)).toEqual([]);
    // An invocation id above every one issued to this callee was never issued.
    callee.send([8, 68, (timed[1] as number) + 1, {}, "wamp.error.canceled"]);
    await expectViolation(callee);
    caller.close();
  });

  it("aborts on a CALL reusing the request id of a call still in progress", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("busy"));
    caller.send([48, 7, {}, uri("busy")]);
    await callee.next((m) => m[0] === 68);
    caller.send([48, 7, {}, uri("busy")]);
    await expectViolation(caller);
    callee.close();
  });

  it("fails a CALL nested deeper than the limit with an ERROR naming it, and keeps the session", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("echo"));
    caller.send([48, 1, {}, uri("echo"), [], { deep: nested(99) }]);
    const err = await caller.next((m) => m[1] === 48 || m[0] === 50 || m[0] === 3);
    expect(err.slice(0, 5)).toEqual([8, 48, 1, {}, "wamp.error.invalid_argument"]);
    expect(err[5]).toEqual(["CALL kwargs refused: nested deeper than 64 levels (the router's limit)"]);
    await stillServes(caller, 2);
    // At the limit it goes through.
    caller.send([48, 3, {}, uri("echo"), [nested(63)]]);
    const inv = await callee.next((m) => m[0] === 68);
    callee.send([70, inv[1], {}, inv[4]]);
    expect(await caller.next((m) => m[1] === 3)).toEqual([50, 3, {}, [nested(63)]]);
    expect(callee.messages).toEqual([]);
    callee.close();
    caller.close();
  });

  it("fails a CALL whose kwargs hold a __proto__ key (or, in msgpack and CBOR, a key that is not a string)", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    await register(callee, uri("keys"));
    const proto = serializer === "json" ? (JSON.parse('{"a": {"__proto__": {"polluted": true}}}') as unknown) : new Map([["a", new Map([["__proto__", { polluted: true }]])]]);
    caller.send([48, 1, {}, uri("keys"), [], proto]);
    const err = await caller.next((m) => m[1] === 48 || m[0] === 50 || m[0] === 3);
    expect(err.slice(0, 6)).toEqual([8, 48, 1, {}, "wamp.error.invalid_argument", ["CALL kwargs refused: dict key '__proto__' is not allowed"]]);
    if (serializer !== "json") {
      caller.send([48, 2, {}, uri("keys"), [new Map([[7, "seven"]])]]);
      const keyErr = await caller.next((m) => m[1] === 48 || m[0] === 50 || m[0] === 3);
      expect(keyErr.slice(0, 6)).toEqual([8, 48, 2, {}, "wamp.error.invalid_argument", ["CALL args refused: dict keys must be strings"]]);
    }
    await stillServes(caller, 3);
    expect(callee.messages).toEqual([]);
    callee.close();
    caller.close();
  });

  it("answers other refused requests with an ERROR for that request: PUBLISH with acknowledge, SUBSCRIBE, YIELD", async () => {
    const c = await joined(serializer);
    c.send([16, 1, {}, uri("t"), [nested(70)]]); // no acknowledge: nothing to answer
    c.send([16, 2, { acknowledge: true }, uri("t"), [nested(70)]]);
    expect((await c.next((m) => m[0] === 8 || m[0] === 17 || m[0] === 3)).slice(0, 5)).toEqual([8, 16, 2, {}, "wamp.error.invalid_argument"]);
    c.send([32, 3, { extra: nested(70) }, uri("t")]);
    expect((await c.next((m) => m[0] === 8 || m[0] === 33 || m[0] === 3)).slice(0, 5)).toEqual([8, 32, 3, {}, "wamp.error.invalid_argument"]);
    // A callee's over-deep result fails the call for its caller; both sessions go on.
    const caller = await joined(serializer);
    await register(c, uri("deep-result"), {}, 4);
    caller.send([48, 1, {}, uri("deep-result")]);
    const inv = await c.next((m) => m[0] === 68);
    c.send([70, inv[1], {}, [nested(70)]]);
    const failed = await caller.next((m) => m[1] === 48 || m[0] === 50);
    expect(failed.slice(0, 5)).toEqual([8, 48, 1, {}, "wamp.error.invalid_argument"]);
    expect(String((failed[5] as string[])[0])).toContain("nested deeper than 64 levels");
    await stillServes(c, 5);
    await stillServes(caller, 2);
    c.close();
    caller.close();
  });
});

describe("nesting far past the limit", () => {
  /** CALL [48, id, {}, "p", [ ...depth lists... ]], built without an encoder (they recurse). */
  const deepCall: Record<string, (requestId: number, depth: number) => { data: string | Buffer; binary: boolean }> = {
    json: (id, depth) => ({ data: `[48,${id},{},"conf.deep",[${"[".repeat(depth)}${"]".repeat(depth)}]]`, binary: false }),
    msgpack: (id, depth) => ({ data: Buffer.concat([Buffer.from([0x95, 48, id, 0x80, 0xa9]), Buffer.from("conf.deep"), Buffer.from([0x91]), Buffer.alloc(depth, 0x91), Buffer.from([0x90])]), binary: true }),
    cbor: (id, depth) => ({ data: Buffer.concat([Buffer.from([0x85, 0x18, 48, id, 0xa0, 0x69]), Buffer.from("conf.deep"), Buffer.from([0x81]), Buffer.alloc(depth, 0x81), Buffer.from([0x80])]), binary: true }),
  };

  it.each(serializerNames)("answers %s nested 12,000 deep with the ERROR, and nothing anywhere meets a RangeError", async (serializer) => {
    const c = await joined(serializer);
    const frame = deepCall[serializer]!(1, 12_000);
    c.sendRaw(frame.data, frame.binary);
    const err = await c.next((m) => m[0] === 8 || m[0] === 3);
    expect(err.slice(0, 6)).toEqual([8, 48, 1, {}, "wamp.error.invalid_argument", ["CALL args refused: nested deeper than 64 levels (the router's limit)"]]);
    await stillServes(c, 2);
    c.close();
    expect(logged.join("").match(/RangeError|call stack/g)).toBeNull();
  });
});

describe("payload options", () => {
  it("takes the nesting limit from maxNestingDepth, within 8 to 1000", async () => {
    const small = await startRouter({ anonymous: { role: "user" }, maxNestingDepth: 8 });
    try {
      const c = await RawClient.open(small.url, "json");
      expect((await c.join())[0]).toBe(2);
      c.send([48, 1, {}, "wamp.session.count", [nested(7)]]);
      expect((await c.next((m) => m[1] === 1 || m[2] === 1))[0]).toBe(50);
      c.send([48, 2, {}, "wamp.session.count", [nested(8)]]);
      expect((await c.next((m) => m[2] === 2))[5]).toEqual(["CALL args refused: nested deeper than 8 levels (the router's limit)"]);
      c.close();
    } finally {
      await small.router.close();
    }
    for (const bad of [7, 1001, 12.5]) {
      expect(() => createRouter({ maxNestingDepth: bad }), String(bad)).toThrow(AppError);
    }
  });

  it("answers a refused CALL with the embedding's callPayloadError", async () => {
    const custom = await startRouter({
      anonymous: { role: "user" },
      callPayloadError: (problem) => ({
        uri: "com.example.error.invalid_argument",
        args: [problem.message],
        kwargs: { code: problem.code, message: problem.message, details: problem.details },
      }),
    });
    try {
      for (const serializer of serializerNames) {
        const c = await RawClient.open(custom.url, serializer);
        await c.join();
        c.send([48, 1, {}, "wamp.session.count", [], { configuration: nested(80) }]);
        const message = "CALL kwargs refused: nested deeper than 64 levels (the router's limit)";
        expect(await c.next((m) => m[0] === 8)).toEqual([
          8,
          48,
          1,
          {},
          "com.example.error.invalid_argument",
          [message],
          { code: "invalid_argument", message, details: [{ path: "kwargs", message: "nested deeper than 64 levels (the router's limit)" }] },
        ]);
        c.close();
      }
    } finally {
      await custom.router.close();
    }
  });
});
