// The router's in-process session (Router.openLocalSession), as the service uses it for its API:
// called by autobahn-js and raw clients over real WebSockets, cancelled, timed out, closed.
import autobahn from "autobahn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import type { LocalInvocationDetails, LocalSession, Router } from "../../src/router/index.js";
import { connectAb, deferred, RawClient, serializerNames, sleep, startRouter } from "./helpers.js";

let router: Router;
let url: string;
let local: LocalSession;
beforeAll(async () => {
  ({ router, url } = await startRouter({ anonymous: { role: "user" } }));
  local = router.openLocalSession({ authid: "service" });
});
afterAll(async () => {
  await router.close();
});

async function joined(serializer = "json"): Promise<RawClient> {
  const c = await RawClient.open(url, serializer);
  expect((await c.join())[0]).toBe(2);
  return c;
}

/** An endpoint that streams a progressive result every 20 ms until its signal aborts. */
function streaming(): { endpoint: (a: unknown[], k: Record<string, unknown>, d: LocalInvocationDetails) => Promise<string>; stopped: Promise<{ reason: unknown; progressAfter: unknown }> } {
  const stopped = deferred<{ reason: unknown; progressAfter: unknown }>();
  const endpoint = async (_a: unknown[], _k: Record<string, unknown>, d: LocalInvocationDetails): Promise<string> => {
    for (let n = 1; !d.signal.aborted; n++) {
      d.progress?.([n]);
      await sleep(20);
    }
    let progressAfter: unknown = "accepted";
    try {
      d.progress?.(["after"]);
    } catch (err) {
      progressAfter = err;
    }
    stopped.resolve({ reason: d.signal.reason, progressAfter });
    return "ended";
  };
  return { endpoint, stopped: stopped.promise };
}

describe("the in-process session as a callee", () => {
  it("serves autobahn-js callers on every serializer: results, disclosure on disclose_caller, errors", async () => {
    const seen: LocalInvocationDetails[] = [];
    const regs = [
      await local.register("local.echo", (args, kwargs, details) => {
        seen.push(details);
        return { args, kwargs };
      }, { disclose_caller: true }),
      await local.register("local.fail", () => {
        throw new autobahn.Error("com.example.error.bad", ["bad thing"], { code: 7 });
      }),
      await local.register("local.crash", () => {
        throw new Error("boom");
      }),
    ];
    for (const serializer of serializerNames) {
      const c = await connectAb(url, { serializer });
      expect(await c.session.call("local.echo", [1, 2 ** 40], { k: "v" })).toEqual({ args: [1, 2 ** 40], kwargs: { k: "v" } });
      expect(seen.at(-1)).toMatchObject({ procedure: "local.echo", caller: c.session.id, caller_authid: c.details.authid, caller_authrole: "user" });
      expect(seen.at(-1)?.progress).toBeUndefined();
      const failed = await c.session.call("local.fail").then(undefined, (e: unknown) => e);
      expect(failed).toMatchObject({ error: "com.example.error.bad", args: ["bad thing"], kwargs: { code: 7 } });
      const crashed = await c.session.call("local.crash").then(undefined, (e: unknown) => e);
      expect(crashed).toMatchObject({ error: "wamp.error.runtime_error", args: ["boom"] });
      await c.close();
    }
    for (const r of regs) await local.unregister(r);
  });

  it.each(["kill", "killnowait"])("stops an invocation at once when its caller cancels with %s, and refuses further progress", async (mode) => {
    const { endpoint, stopped } = streaming();
    const reg = await local.register(`local.stream.${mode}`, endpoint);
    const caller = await joined();
    caller.send([48, 1, { receive_progress: true }, `local.stream.${mode}`]);
    await caller.next((m) => m[0] === 50 && (m[3] as number[])[0] === 2);
    const cancelledAt = Date.now();
    caller.send([49, 1, { mode }]);
    expect((await caller.next((m) => m[0] === 8 && m[2] === 1)).slice(0, 5)).toEqual([8, 48, 1, {}, "wamp.error.canceled"]);
    const end = await stopped;
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    expect(end.reason).toBeInstanceOf(AppError);
    expect(end.progressAfter).toMatchObject({ code: "cancelled" });
    const seenBefore = caller.messages.length;
    await sleep(100);
    expect(caller.messages.slice(seenBefore)).toEqual([]);
    caller.close();
    await local.unregister(reg);
  });

  it("stops an invocation when its caller leaves or its call times out, but not on a skip cancel", async () => {
    const leaving = streaming();
    const timing = streaming();
    const silent = streaming();
    const regs = [
      await local.register("local.leave", leaving.endpoint),
      await local.register("local.timeout", timing.endpoint),
      await local.register("local.silent", silent.endpoint),
    ];
    const c = await joined("msgpack");
    c.send([48, 1, { receive_progress: true }, "local.leave"]);
    await c.next((m) => m[0] === 50);
    c.close();
    expect((await leaving.stopped).progressAfter).toMatchObject({ code: "cancelled" });

    const d = await joined("cbor");
    d.send([48, 2, { receive_progress: true, timeout: 200 }, "local.timeout"]);
    // Progressive results restart the timer, so this call only ends... when it is cancelled instead.
    await sleep(400);
    expect(d.messages.some((m) => m[0] === 8)).toBe(false);
    d.send([49, 2, { mode: "killnowait" }]);
    await timing.stopped;
    d.send([48, 3, { timeout: 150 }, "local.silent"]);
    expect((await d.next((m) => m[0] === 8 && m[2] === 3))[4]).toBe("wamp.error.timeout");
    expect((await silent.stopped).progressAfter).toBe("accepted"); // timed out; without receive_progress it had no progress function

    const skip = streaming();
    regs.push(await local.register("local.skip2", skip.endpoint));
    d.send([48, 4, { receive_progress: true }, "local.skip2"]);
    await d.next((m) => m[0] === 50 && m[1] === 4);
    d.send([49, 4, { mode: "skip" }]);
    expect((await d.next((m) => m[0] === 8 && m[2] === 4))[4]).toBe("wamp.error.canceled");
    // skip: the callee is not told; its later results are dropped by the router.
    await sleep(100);
    const settled = await Promise.race([skip.stopped.then(() => "stopped"), sleep(50).then(() => "running")]);
    expect(settled).toBe("running");
    d.close();
    for (const r of regs) await local.unregister(r);
  });
});

describe("the in-process session as subscriber, publisher and caller", () => {
  it("subscribes, publishes (disclosed), calls, unsubscribes and unregisters", async () => {
    const got = deferred<unknown[]>();
    const sub = await local.subscribe("local.topic", (args, kwargs, details) => got.resolve([args, kwargs, details.topic]), { match: "prefix" });
    const c = await joined("cbor");
    c.send([16, 1, {}, "local.topic.x", [1], { k: 2 }]);
    expect(await got.promise).toEqual([[1], { k: 2 }, "local.topic.x"]);
    await local.unsubscribe(sub);
    expect(sub.active).toBe(false);

    c.send([32, 2, {}, "local.news"]);
    await c.next((m) => m[0] === 33);
    expect(await local.publish("local.news", ["hello"], {}, { acknowledge: true })).toMatchObject({ id: expect.any(Number) });
    const event = await c.next((m) => m[0] === 36);
    expect(event[3]).toMatchObject({ publisher: local.id, publisher_authid: "service", publisher_authrole: "trusted" });
    expect(event[4]).toEqual(["hello"]);
    await expect(local.publish("not a uri", [], {}, { acknowledge: true })).rejects.toMatchObject({ code: "invalid_argument" });

    const me = await local.call("wamp.session.get", [local.id]);
    expect(me).toMatchObject({ session: local.id, authid: "service", authrole: "trusted", transport: { type: "internal" } });
    await expect(local.call("wamp.session.get", [1])).rejects.toMatchObject({ message: expect.stringContaining("wamp.error.no_such_session") });

    const reg = await local.register("local.once", () => 1);
    await expect(local.register("local.once", () => 2)).rejects.toMatchObject({ code: "conflict" });
    await local.unregister(reg);
    expect(reg.active).toBe(false);
    c.send([48, 3, {}, "local.once"]);
    expect((await c.next((m) => m[0] === 8 && m[2] === 3))[4]).toBe("wamp.error.no_such_procedure");
    c.close();
  });

  it("leaves the realm on close, and closes with the router", async () => {
    const { router: r, url: u } = await startRouter({ anonymous: { role: "user" } });
    const watcher = await RawClient.open(u, "json");
    await watcher.join();
    watcher.send([32, 1, {}, "wamp.session.on_leave"]);
    await watcher.next((m) => m[0] === 33);
    const a = r.openLocalSession({ authid: "a" });
    const b = r.openLocalSession({ authid: "b" });
    await a.register("x.y", () => "a");
    expect(r.sessionCount()).toBe(3);
    a.close();
    expect((await watcher.next((m) => m[0] === 36))[4]).toEqual([a.id, "a", "trusted"]);
    expect(r.sessionCount()).toBe(2);
    await expect(a.register("x.z", () => 1)).rejects.toMatchObject({ code: "unavailable" });
    await b.register("x.y", () => "b"); // a's registration went with it
    await r.close();
    await expect(b.register("x.w", () => 1)).rejects.toMatchObject({ code: "unavailable" });
    expect(() => r.openLocalSession({ realm: "nowhere" })).toThrow(AppError);
  });
});
