// Protocol-level behaviour with a raw `ws` peer: violations, limits, cancel modes, cleanup.
import cbor from "cbor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/index.js";
import { RawClient, serializerNames, sleep, startRouter } from "./helpers.js";

let router: Router;
let url: string;
beforeAll(async () => {
  ({ router, url } = await startRouter({ anonymous: { role: "user" }, maxMessageBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 }));
});
afterAll(async () => {
  await router.close();
});

async function joined(serializer: string): Promise<RawClient> {
  const c = await RawClient.open(url, serializer);
  const welcome = await c.join();
  expect(welcome[0]).toBe(2);
  return c;
}

async function expectViolation(c: RawClient): Promise<void> {
  const abort = await c.next((m) => m[0] === 3);
  expect(abort[2]).toBe("wamp.error.protocol_violation");
  await c.closed();
}

async function stillServing(serializer: string): Promise<void> {
  const c = await joined(serializer);
  c.send([48, 7, {}, "wamp.session.count"]);
  const r = await c.next((m) => m[0] === 50);
  expect(r[1]).toBe(7);
  c.close();
}

const garbage: Record<string, { data: string | Buffer; binary: boolean }> = {
  json: { data: "[1, \"fediversity\", {", binary: false },
  msgpack: { data: Buffer.from([0xc1, 0xc1, 0xc1]), binary: true },
  cbor: { data: Buffer.from([0x1c, 0xff]), binary: true },
};

describe.each(serializerNames)("protocol over %s", (serializer) => {
  it("aborts on a malformed frame and keeps serving", async () => {
    const c = await RawClient.open(url, serializer);
    c.sendRaw(garbage[serializer]!.data, garbage[serializer]!.binary);
    await expectViolation(c);
    await stillServing(serializer);
  });

  it("aborts on a frame of the wrong type, a non-list and an unknown message code", async () => {
    const c1 = await RawClient.open(url, serializer);
    c1.sendRaw(serializer === "json" ? Buffer.from("[1]") : "[1]", serializer === "json");
    await expectViolation(c1);
    const c2 = await RawClient.open(url, serializer);
    c2.send({ hello: 1 } as unknown as unknown[]);
    await expectViolation(c2);
    const c3 = await joined(serializer);
    c3.send([999, 1]);
    await expectViolation(c3);
    await stillServing(serializer);
  });

  it("aborts on messages out of order", async () => {
    const beforeHello = await RawClient.open(url, serializer);
    beforeHello.send([48, 1, {}, "x.y"]);
    await expectViolation(beforeHello);
    const authenticateUnasked = await RawClient.open(url, serializer);
    authenticateUnasked.send([5, "sig", {}]);
    await expectViolation(authenticateUnasked);
    const twice = await joined(serializer);
    twice.send([1, "fediversity", { roles: { caller: {} } }]);
    await expectViolation(twice);
    const wrongError = await joined(serializer);
    wrongError.send([8, 48, 1, {}, "x.y"]);
    await expectViolation(wrongError);
    const badShape = await joined(serializer);
    badShape.send([48, "one", {}, "x.y"]);
    await expectViolation(badShape);
    const nullArgs = await joined(serializer);
    nullArgs.send([48, 1, {}, "x.y", null]);
    await expectViolation(nullArgs);
    await stillServing(serializer);
  });

  it("closes a connection that sends an oversize message and keeps serving", async () => {
    const c = await joined(serializer);
    c.send([16, 1, {}, "big.topic", ["x".repeat(100 * 1024)]]);
    const info = await c.closed();
    expect(info.code).toBe(1009);
    await stillServing(serializer);
  });

  it("answers GOODBYE with GOODBYE and closes", async () => {
    const c = await joined(serializer);
    c.send([6, {}, "wamp.close.close_realm"]);
    const bye = await c.next((m) => m[0] === 6);
    expect(bye[2]).toBe("wamp.close.goodbye_and_out");
    await c.closed();
  });

  it("keeps ids >= 2^32 integers and never emits null or trailing empty payloads", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    callee.send([64, 2 ** 40, {}, `ids.${serializer}`]);
    const registered = await callee.next((m) => m[0] === 65);
    expect(registered[1]).toBe(2 ** 40);
    const cases: [unknown[], unknown[]][] = [
      [[], []],
      [[[], {}], []],
      [[[1]], [[1]]],
      [[[], { k: 2 ** 53 }], [[], { k: 2 ** 53 }]],
    ];
    let requestId = 2 ** 33;
    for (const [yielded, expected] of cases) {
      requestId += 1;
      caller.send([48, requestId, {}, `ids.${serializer}`, [2 ** 52 + 1]]);
      const inv = await callee.next((m) => m[0] === 68);
      expect(inv[4]).toEqual([2 ** 52 + 1]);
      expect(inv.length).toBe(5);
      callee.send([70, inv[1], {}, ...yielded]);
      const result = await caller.next((m) => m[0] === 50 && m[1] === requestId);
      expect(result.slice(3)).toEqual(expected);
      expect(Number.isInteger(result[1])).toBe(true);
    }
    callee.close();
    caller.close();
  });

  it("implements cancel modes skip, kill and killnowait", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    callee.send([64, 1, {}, `cancel.${serializer}`]);
    await callee.next((m) => m[0] === 65);
    // skip: caller gets canceled, callee hears nothing, its late YIELD is discarded.
    caller.send([48, 10, {}, `cancel.${serializer}`]);
    const inv1 = await callee.next((m) => m[0] === 68);
    caller.send([49, 10, { mode: "skip" }]);
    expect((await caller.next((m) => m[0] === 8 && m[2] === 10))[4]).toBe("wamp.error.canceled");
    callee.send([70, inv1[1], {}, ["late"]]);
    // kill: callee is interrupted and its ERROR reaches the caller.
    caller.send([48, 11, {}, `cancel.${serializer}`]);
    const inv2 = await callee.next((m) => m[0] === 68);
    caller.send([49, 11, { mode: "kill" }]);
    const interrupt = await callee.next((m) => m[0] === 69);
    expect(interrupt.slice(1, 2)).toEqual([inv2[1]]);
    expect((interrupt[2] as Record<string, unknown>).mode).toBe("kill");
    callee.send([8, 68, inv2[1], {}, "wamp.error.canceled", ["stopped"]]);
    const killed = await caller.next((m) => m[0] === 8 && m[2] === 11);
    expect(killed.slice(4)).toEqual(["wamp.error.canceled", ["stopped"]]);
    // killnowait: interrupt and immediate error.
    caller.send([48, 12, {}, `cancel.${serializer}`]);
    const inv3 = await callee.next((m) => m[0] === 68);
    caller.send([49, 12, {}]);
    expect((await callee.next((m) => m[0] === 69))[1]).toBe(inv3[1]);
    expect((await caller.next((m) => m[0] === 8 && m[2] === 12))[4]).toBe("wamp.error.canceled");
    await sleep(50);
    expect(caller.messages.filter((m) => m[0] === 50)).toEqual([]);
    callee.close();
    caller.close();
  });

  it("interrupts the callee when the caller vanishes, and cancels the caller when the callee vanishes", async () => {
    const callee = await joined(serializer);
    const caller = await joined(serializer);
    callee.send([64, 1, {}, `vanish.${serializer}`]);
    await callee.next((m) => m[0] === 65);
    caller.send([48, 1, {}, `vanish.${serializer}`]);
    const inv = await callee.next((m) => m[0] === 68);
    caller.close();
    const interrupt = await callee.next((m) => m[0] === 69);
    expect(interrupt[1]).toBe(inv[1]);
    const caller2 = await joined(serializer);
    caller2.send([48, 2, {}, `vanish.${serializer}`]);
    await callee.next((m) => m[0] === 68);
    callee.close(); // TCP-level vanish, no GOODBYE
    const err = await caller2.next((m) => m[0] === 8);
    expect(err[4]).toBe("wamp.error.canceled");
    caller2.close();
  });

  it("sends progressive results only to callers that asked, via callees that support them", async () => {
    const plain = await RawClient.open(url, serializer);
    await plain.join({ roles: { callee: { features: {} } } });
    const caller = await joined(serializer);
    plain.send([64, 1, {}, `prog.${serializer}`]);
    await plain.next((m) => m[0] === 65);
    caller.send([48, 1, { receive_progress: true }, `prog.${serializer}`]);
    const inv = await plain.next((m) => m[0] === 68);
    expect(inv[3]).toEqual({});
    plain.send([70, inv[1], { progress: true }, ["p"]]);
    plain.send([70, inv[1], {}, ["final"]]);
    const r = await caller.next((m) => m[0] === 50);
    expect(r).toEqual([50, 1, {}, ["final"]]);
    plain.close();
    caller.close();
  });
});

describe("transport limits", () => {
  it("negotiates the client's preferred subprotocol", async () => {
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(url, ["wamp.2.unknown", "wamp.2.cbor", "wamp.2.json"]);
    await new Promise((r) => ws.once("open", r));
    expect(ws.protocol).toBe("wamp.2.cbor");
    ws.send(cbor.encode([1, "fediversity", { roles: { subscriber: {} } }]));
    const reply = await new Promise<Buffer>((r) => ws.once("message", r));
    expect((cbor.decodeFirstSync(reply) as unknown[])[0]).toBe(2);
    ws.terminate();
  });

  it("disconnects a slow consumer and stays responsive", async () => {
    const slow = await joined("json");
    slow.send([32, 1, {}, "flood"]);
    await slow.next((m) => m[0] === 33);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const publisher = await joined("json");
    const before = router.sessionCount();
    const chunk = "y".repeat(32 * 1024);
    for (let i = 0; i < 400 && router.sessionCount() >= before; i++) {
      publisher.send([16, i + 1, {}, "flood", [chunk]]);
      if (i % 20 === 0) await sleep(5);
    }
    await sleep(100);
    expect(router.sessionCount()).toBe(before - 1);
    publisher.send([48, 99, {}, "wamp.session.count"]);
    const r = await publisher.next((m) => m[0] === 50 && m[1] === 99);
    expect(r[3]).toEqual([before - 1]);
    publisher.close();
    slow.close();
  });
});

describe("attach to an existing http.Server", () => {
  it("serves WAMP on its path and leaves other upgrade paths to other handlers", async () => {
    const { createServer } = await import("node:http");
    const { WebSocketServer, WebSocket } = await import("ws");
    const { createRouter } = await import("../../src/router/index.js");
    const server = createServer();
    const other = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      if (req.url === "/other") other.handleUpgrade(req, socket, head, (ws) => ws.send("other"));
    });
    const r = createRouter({ anonymous: { role: "user" } });
    r.attach(server, { path: "/wamp" });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const port = (server.address() as { port: number }).port;
    try {
      const c = await RawClient.open(`ws://127.0.0.1:${port}/wamp`, "json");
      expect((await c.join())[0]).toBe(2);
      c.close();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
      const text = await new Promise<string>((res) => ws.once("message", (d: Buffer) => res(d.toString())));
      expect(text).toBe("other");
      ws.terminate();
    } finally {
      await r.close();
      other.close();
      server.closeAllConnections();
      await new Promise((res) => server.close(res));
    }
  });
});

describe("timers", () => {
  it("drops a peer that stops answering pings, aborts a silent handshake, applies the default call timeout", async () => {
    const { router: r, url: u } = await startRouter({ anonymous: { role: "user" }, pingIntervalMs: 100, handshakeTimeoutMs: 300, callTimeoutMs: 150 });
    try {
      const silent = await RawClient.open(u, "json");
      const abort = await silent.next((m) => m[0] === 3, 3000);
      expect(abort[2]).toBe("wamp.error.protocol_violation");

      const callee = await RawClient.open(u, "json");
      await callee.join();
      const caller = await RawClient.open(u, "json");
      await caller.join();
      callee.send([64, 1, {}, "slow.proc"]);
      await callee.next((m) => m[0] === 65);
      caller.send([48, 5, {}, "slow.proc"]);
      const err = await caller.next((m) => m[0] === 8, 3000);
      expect(err[4]).toBe("wamp.error.timeout");
      expect((await callee.next((m) => m[0] === 69))[2]).toMatchObject({ mode: "killnowait" });

      expect(r.sessionCount()).toBe(2);
      (callee.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await sleep(500);
      expect(r.sessionCount()).toBe(1);
      caller.close();
      callee.close();
    } finally {
      await r.close();
    }
  });
});

describe("binary payloads across serializers", () => {
  it("converts bytes between msgpack/CBOR bin and JSON's \\0+base64 strings", async () => {
    const sub = await joined("json");
    const mp = await joined("msgpack");
    const cb = await joined("cbor");
    sub.send([32, 1, {}, "bin.topic"]);
    await sub.next((m) => m[0] === 33);
    mp.send([32, 1, {}, "bin.topic"]);
    await mp.next((m) => m[0] === 33);
    mp.send([16, 2, { acknowledge: true }, "bin.topic", [Buffer.from([0, 1, 2, 255])]]);
    const ev = await sub.next((m) => m[0] === 36);
    expect(ev[4]).toEqual([Buffer.from([0, 1, 2, 255])]); // the raw client's JSON decode uses the router's serializer
    const raw = sub.serializer.encode(ev) as string;
    expect(raw).toContain('"\\u0000AAEC/w=="');
    sub.send([16, 3, { acknowledge: true }, "bin.topic", ["\u0000AAEC/w=="]]);
    const ev2 = await mp.next((m) => m[0] === 36);
    expect(Buffer.isBuffer((ev2[4] as unknown[])[0])).toBe(true);
    expect((ev2[4] as Buffer[])[0]).toEqual(Buffer.from([0, 1, 2, 255]));
    for (const c of [sub, mp, cb]) c.close();
  });
});

describe("holding sessions until the embedding service admits them", () => {
  it("welcomes role trusted at once and everyone else only after admit()", async () => {
    const held = await startRouter({ anonymous: { role: "user" }, holdUntilAdmitted: true });
    try {
      const service = held.router.issueTrustedTicket("svc");
      const early = await RawClient.open(held.url, "json");
      const earlyJoin = early.join();
      let earlyWelcomed = false;
      void earlyJoin.then(() => (earlyWelcomed = true));
      const trusted = await RawClient.open(held.url, "json");
      const welcome = await trusted.join({ authid: service.authid, ticket: service.ticket });
      expect(welcome[0]).toBe(2);
      // The trusted session registers while the anonymous one still waits for its WELCOME.
      trusted.send([64, 1, {}, "com.example.ready"]);
      const registered = await trusted.next((m) => m[0] === 65);
      expect(registered[1]).toBe(1);
      await sleep(100);
      expect(earlyWelcomed).toBe(false);
      held.router.admit();
      expect((await earlyJoin)[0]).toBe(2);
      early.send([48, 2, {}, "com.example.ready"]);
      const invocation = await trusted.next((m) => m[0] === 68);
      trusted.send([70, invocation[1], {}, ["up"]]);
      expect((await early.next((m) => m[0] === 50))[3]).toEqual(["up"]);
      const late = await RawClient.open(held.url, "json");
      expect((await late.join())[0]).toBe(2);

      // A stopping service dismisses its clients before it unregisters: they get a clean GOODBYE,
      // the trusted session stays, and newcomers are held again.
      held.router.dismissClients();
      for (const c of [early, late]) expect((await c.next((m) => m[0] === 6))[2]).toBe("wamp.close.system_shutdown");
      trusted.send([66, 3, registered[2]]); // UNREGISTER still answered: the trusted session was kept
      expect((await trusted.next((m) => m[0] === 67))[1]).toBe(3);
      const after = await RawClient.open(held.url, "json");
      let afterWelcomed = false;
      void after.join().then(() => (afterWelcomed = true), () => undefined);
      await sleep(100);
      expect(afterWelcomed).toBe(false);
      for (const c of [early, trusted, late, after]) c.close();
    } finally {
      await held.router.close();
    }
  });
});
