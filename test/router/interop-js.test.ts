// Interop with autobahn-js 22.11.1 on every serializer: sessions, dealer, broker, meta.
import autobahn from "autobahn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/index.js";
import { connectAb, deferred, serializerNames, sleep, startRouter, type AbClient } from "./helpers.js";

type AbResult = { args: unknown[]; kwargs: Record<string, unknown> };
type AbError = { error: string; args: unknown[]; kwargs: Record<string, unknown> };

let router: Router;
let url: string;

beforeAll(async () => {
  ({ router, url } = await startRouter({ anonymous: { role: "user" }, callTimeoutMs: 0 }));
});
afterAll(async () => {
  await router.close();
});

describe.each(serializerNames)("autobahn-js over %s", (serializer) => {
  let a: AbClient;
  let b: AbClient;
  beforeAll(async () => {
    a = await connectAb(url, { serializer });
    b = await connectAb(url, { serializer });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  const uri = (name: string): string => `test.${serializer}.${name}`;

  it("welcomes with the router's roles and the anonymous identity", () => {
    const welcome = a.session as unknown as { _features: Record<string, Record<string, boolean>> };
    expect(welcome._features.caller?.progressive_call_results).toBe(true);
    expect(welcome._features.subscriber?.pattern_based_subscription).toBe(true);
    expect(a.details.authrole).toBe("user");
    expect(a.details.authmethod).toBe("anonymous");
    expect(typeof a.session.id).toBe("number");
  });

  it("passes args and kwargs through unchanged, with large integers kept as integers", async () => {
    const reg = await b.session.register(uri("echo"), (args, kwargs) => new autobahn.Result(args, kwargs));
    // 2^53 - 1: autobahn-js's own CBOR decoder turns integers >= 2^53 into BigInt.
    const payload = { n: 2 ** 53 - 1, m: 2 ** 32 + 7, neg: -(2 ** 40), f: 0.1, s: "héllo ✓", nested: { list: [1, [2, {}]], nil: null }, t: true };
    const r = (await a.session.call(uri("echo"), [1, "two", payload], { k: payload })) as AbResult;
    expect(r.args).toEqual([1, "two", payload]);
    expect(r.kwargs).toEqual({ k: payload });
    const single = await a.session.call(uri("echo"), [42]);
    expect(single).toBe(42);
    await b.session.unregister(reg);
  });

  it("passes an application error through intact", async () => {
    const reg = await b.session.register(uri("fail"), () => {
      throw new autobahn.Error("com.example.error.invalid", ["bad thing"], { code: 42 });
    });
    const err = (await a.session.call(uri("fail")).then(
      () => undefined,
      (e: unknown) => e,
    )) as AbError;
    expect(err.error).toBe("com.example.error.invalid");
    expect(err.args).toEqual(["bad thing"]);
    expect(err.kwargs).toEqual({ code: 42 });
    await b.session.unregister(reg);
  });

  it("answers no_such_procedure and procedure_already_exists", async () => {
    const err = (await a.session.call(uri("missing")).then(undefined, (e: unknown) => e)) as AbError;
    expect(err.error).toBe("wamp.error.no_such_procedure");
    const reg = await b.session.register(uri("once"), () => 1);
    const dup = (await a.session.register(uri("once"), () => 2).then(undefined, (e: unknown) => e)) as AbError;
    expect(dup.error).toBe("wamp.error.procedure_already_exists");
    await b.session.unregister(reg);
  });

  it("routes to the most specific registration: exact > longest prefix > wildcard", async () => {
    const base = uri("pat");
    const regs = [
      await b.session.register(`${base}.a.b`, () => "exact"),
      await b.session.register(`${base}.a`, (_a, _k, d) => `prefix-short:${String(d?.procedure)}`, { match: "prefix" } as never),
      await b.session.register(`${base}.a.b`, (_a, _k, d) => `prefix-long:${String(d?.procedure)}`, { match: "prefix" } as never),
      await b.session.register(`${base}..c`, (_a, _k, d) => `wildcard:${String(d?.procedure)}`, { match: "wildcard" } as never),
    ];
    expect(await a.session.call(`${base}.a.b`)).toBe("exact");
    expect(await a.session.call(`${base}.a.b.x`)).toBe(`prefix-long:${base}.a.b.x`);
    expect(await a.session.call(`${base}.a.x`)).toBe(`prefix-short:${base}.a.x`);
    expect(await a.session.call(`${base}.z.c`)).toBe(`wildcard:${base}.z.c`);
    for (const r of regs) await b.session.unregister(r);
  });

  it("streams progressive results from a callee that can be interrupted, only the final result from one that cannot", async () => {
    type ProgressCall = { then(ok: (v: unknown) => void, err: (e: unknown) => void, progress: (p: unknown) => void): void };
    const follow = async (procedure: string): Promise<{ final: unknown; progress: unknown[] }> => {
      const progress: unknown[] = [];
      const call = a.session.call(procedure, [], {}, { receive_progress: true }) as unknown as ProgressCall;
      const final = await new Promise((resolve, reject) => call.then(resolve, reject, (p) => progress.push(p)));
      return { final, progress };
    };
    // The router's in-process session announces call canceling, so it is offered progressive calls.
    const local = router.openLocalSession();
    const reg = await local.register(uri("progress"), (_args, _kwargs, details) => {
      details.progress?.([1], {});
      details.progress?.([2], { more: true });
      return "done";
    });
    expect(await follow(uri("progress"))).toEqual({ final: "done", progress: [1, { args: [2], kwargs: { more: true } }] });
    // Without receive_progress the caller only gets the final result.
    expect(await a.session.call(uri("progress"))).toBe("done");
    await local.unregister(reg);
    local.close();

    // autobahn-js 22 announces progressive_call_results but not call_canceling: the spec counts such a
    // callee as not supporting progressive results, so it gets no receive_progress and no progress function.
    const offered: boolean[] = [];
    const abReg = await b.session.register(uri("progress-ab"), (_args, _kwargs, details) => {
      offered.push(typeof details?.progress === "function");
      details?.progress?.([1], {});
      return "done";
    });
    expect(await follow(uri("progress-ab"))).toEqual({ final: "done", progress: [] });
    expect(offered).toEqual([false]);
    await b.session.unregister(abReg);
  });

  it("discloses the caller only when asked", async () => {
    const seen: unknown[] = [];
    const reg = await b.session.register(uri("who"), (_a, _k, d) => {
      const x = d as unknown as Record<string, unknown>;
      seen.push({ caller: x.caller, authid: x.caller_authid, authrole: x.caller_authrole });
      return null;
    });
    await a.session.call(uri("who"));
    await a.session.call(uri("who"), [], {}, { disclose_me: true });
    expect(seen[0]).toEqual({ caller: undefined, authid: undefined, authrole: undefined });
    expect(seen[1]).toEqual({ caller: a.session.id, authid: a.details.authid, authrole: "user" });
    await b.session.unregister(reg);
  });

  it("discloses the caller to a callee registered with disclose_caller, without disclose_me", async () => {
    const seen: unknown[] = [];
    const reg = await b.session.register(
      uri("who-registered"),
      (_a, _k, d) => {
        const x = d as unknown as Record<string, unknown>;
        seen.push({ caller: x.caller, authid: x.caller_authid, authrole: x.caller_authrole });
        return null;
      },
      { disclose_caller: true } as never,
    );
    await a.session.call(uri("who-registered"));
    expect(seen).toEqual([{ caller: a.session.id, authid: a.details.authid, authrole: "user" }]);
    await b.session.unregister(reg);
  });

  it("keeps a progressive call alive past its timeout while results keep coming", async () => {
    const local = router.openLocalSession();
    const reg = await local.register(uri("ticker"), async (_a, _k, d) => {
      for (let i = 1; i <= 6; i++) {
        await sleep(100);
        d.progress?.([i]);
      }
      return "done";
    });
    const progress: unknown[] = [];
    const call = a.session.call(uri("ticker"), [], {}, { receive_progress: true, timeout: 300 }) as unknown as {
      then(ok: (v: unknown) => void, err: (e: unknown) => void, progress: (p: unknown) => void): void;
    };
    const final = await new Promise((resolve, reject) => call.then(resolve, reject, (p) => progress.push(p)));
    expect({ final, progress }).toEqual({ final: "done", progress: [1, 2, 3, 4, 5, 6] });
    await local.unregister(reg);
    local.close();
  });

  it("fails a call whose payload the router refuses (too deep, a __proto__ key) with an ERROR, and the session goes on", async () => {
    const reg = await b.session.register(uri("sink"), () => "reached");
    let deep: unknown = "leaf";
    for (let i = 0; i < 100; i++) deep = { k: deep };
    const tooDeep = (await a.session.call(uri("sink"), [], { deep }).then(undefined, (e: unknown) => e)) as AbError;
    expect(tooDeep).toMatchObject({ error: "wamp.error.invalid_argument", args: ["CALL kwargs refused: nested deeper than 64 levels (the router's limit)"] });
    const proto = JSON.parse('{"config": {"__proto__": {"admin": true}}}') as Record<string, unknown>;
    const polluting = (await a.session.call(uri("sink"), [], proto).then(undefined, (e: unknown) => e)) as AbError;
    expect(polluting).toMatchObject({ error: "wamp.error.invalid_argument", args: ["CALL kwargs refused: dict key '__proto__' is not allowed"] });
    expect(await a.session.call(uri("sink"), [], { fine: { k: 1 } })).toBe("reached");
    await b.session.unregister(reg);
  });

  it("delivers events with kwargs, honouring exclude_me, acknowledge and black/white lists", async () => {
    const got: { who: string; args: unknown; kwargs: unknown; details: Record<string, unknown> }[] = [];
    const subA = await a.session.subscribe(uri("ev"), (args, kwargs, details) => got.push({ who: "a", args, kwargs, details: details as unknown as Record<string, unknown> }));
    const subB = await b.session.subscribe(uri("ev"), (args, kwargs, details) => got.push({ who: "b", args, kwargs, details: details as unknown as Record<string, unknown> }));
    const pub = (await a.session.publish(uri("ev"), [1, 2 ** 40], { x: "y" }, { acknowledge: true })) as { id: number };
    expect(Number.isInteger(pub.id)).toBe(true);
    await a.session.publish(uri("ev"), ["me-too"], {}, { acknowledge: true, exclude_me: false, disclose_me: true });
    await a.session.publish(uri("ev"), ["only-a"], {}, { acknowledge: true, exclude_me: false, eligible: [a.session.id] });
    await a.session.publish(uri("ev"), ["not-b"], {}, { acknowledge: true, exclude_me: false, exclude: [b.session.id] });
    await sleep(100);
    expect(got.filter((g) => g.who === "b").map((g) => g.args)).toEqual([[1, 2 ** 40], ["me-too"]]);
    expect(got.filter((g) => g.who === "a").map((g) => g.args)).toEqual([["me-too"], ["only-a"], ["not-b"]]);
    expect(got[0]!.kwargs).toEqual({ x: "y" });
    const disclosed = got.find((g) => g.who === "b" && (g.args as unknown[])[0] === "me-too")!;
    expect(disclosed.details.publisher).toBe(a.session.id);
    await a.session.unsubscribe(subA);
    await b.session.unsubscribe(subB);
  });

  it("matches prefix and wildcard subscriptions and reports details.topic", async () => {
    const got: { how: string; topic: unknown }[] = [];
    const s1 = await b.session.subscribe(uri("tree"), (_a, _k, d) => got.push({ how: "prefix", topic: d?.topic }), { match: "prefix" } as never);
    const s2 = await b.session.subscribe(`${uri("tree")}..leaf`, (_a, _k, d) => got.push({ how: "wildcard", topic: d?.topic }), { match: "wildcard" } as never);
    await a.session.publish(`${uri("tree")}.x.leaf`, [], {}, { acknowledge: true });
    await a.session.publish(`${uri("tree")}.y`, [], {}, { acknowledge: true });
    await sleep(100);
    expect(got).toContainEqual({ how: "prefix", topic: `${uri("tree")}.x.leaf` });
    expect(got).toContainEqual({ how: "wildcard", topic: `${uri("tree")}.x.leaf` });
    expect(got).toContainEqual({ how: "prefix", topic: `${uri("tree")}.y` });
    expect(got).toHaveLength(3);
    await b.session.unsubscribe(s1);
    await b.session.unsubscribe(s2);
  });

  it("offers the session meta API without HTTP details", async () => {
    const joined = deferred<Record<string, unknown>>();
    const left = deferred<unknown[]>();
    const s1 = await a.session.subscribe("wamp.session.on_join", (args) => joined.resolve(args![0] as Record<string, unknown>));
    const s2 = await a.session.subscribe("wamp.session.on_leave", (args) => left.resolve(args!));
    const c = await connectAb(url, { serializer });
    const details = await joined.promise;
    expect(details.session).toBe(c.session.id);
    expect(details.authrole).toBe("user");
    expect(JSON.stringify(details)).not.toMatch(/header|cookie/i);
    const count = (await a.session.call("wamp.session.count")) as number;
    expect(count).toBe(router.sessionCount("fediversity"));
    const list = (await a.session.call("wamp.session.list")) as number[];
    expect(list).toContain(c.session.id);
    const got = (await a.session.call("wamp.session.get", [c.session.id])) as Record<string, unknown>;
    expect(got.authid).toBe(details.authid);
    expect(got.transport).toEqual(details.transport);
    const none = (await a.session.call("wamp.session.get", [1]).then(undefined, (e: unknown) => e)) as AbError;
    expect(none.error).toBe("wamp.error.no_such_session");
    const cid = c.session.id;
    await c.close();
    expect(await left.promise).toEqual([cid, details.authid, "user"]);
    await a.session.unsubscribe(s1);
    await a.session.unsubscribe(s2);
  });

  it("fails pending calls with wamp.error.canceled when the callee leaves", async () => {
    const callee = await connectAb(url, { serializer });
    const invoked = deferred<void>();
    await callee.session.register(uri("hang"), () => {
      invoked.resolve();
      return new Promise(() => undefined);
    });
    const result = a.session.call(uri("hang")).then(undefined, (e: unknown) => e);
    await invoked.promise;
    callee.connection.close();
    const err = (await result) as AbError;
    expect(err.error).toBe("wamp.error.canceled");
    // The procedure is gone with its callee.
    const gone = (await a.session.call(uri("hang")).then(undefined, (e: unknown) => e)) as AbError;
    expect(gone.error).toBe("wamp.error.no_such_procedure");
  });

  it("times a call out with wamp.error.timeout", async () => {
    const reg = await b.session.register(uri("slow"), () => new Promise((r) => setTimeout(() => r("late"), 1000)));
    const err = (await a.session.call(uri("slow"), [], {}, { timeout: 100 }).then(undefined, (e: unknown) => e)) as AbError;
    expect(err.error).toBe("wamp.error.timeout");
    await b.session.unregister(reg);
  });
});
