/**
 * Fuzzing every entry point of the running service (a child process):
 * (a) every WAMP procedure with kwargs derived from the zod schemas and mutated, through real
 *     autobahn-js sessions on json/msgpack/cbor, as tenant, panel and operator;
 * (b) the router's frame parsing over raw `ws` on all three subprotocols: malformed encodings,
 *     wrong codes, arities and types, out-of-order messages, oversize frames, deep nesting.
 * Every case must end in a typed WAMP error, a result, or an ABORT/close, within a bound; the
 * process must still be running and answering afterwards. Replay a run with FUZZ_SEED=<seed>.
 */
import cbor from "cbor";
import msgpack5 from "msgpack5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { z } from "zod";
import * as schemas from "../../src/api/schemas.js";
import { deepNest, hostileValue, pick, validValue, type Rand } from "./fuzz-values.js";
import {
  boundedCall,
  fuzzSeed,
  healthz,
  mustCall,
  openSession,
  prng,
  report,
  startHostileService,
  type HostileService,
  type Principal,
  type Serializer,
} from "./support.js";

const apiCases = Number(process.env.FUZZ_API_CASES ?? 5500);
const frameCases = Number(process.env.FUZZ_FRAME_CASES ?? 4500);
const callTimeoutMs = 10_000;

const procedures: Record<string, z.ZodObject> = {
  "deployment.submit": schemas.submitKwargs,
  "deployment.plan": schemas.planKwargs,
  "deployment.get": schemas.getKwargs,
  "deployment.list": schemas.listKwargs,
  "deployment.cancel": schemas.cancelKwargs,
  "deployment.delete": schemas.deleteKwargs,
  "deployment.rollback": schemas.rollbackKwargs,
  "deployment.events": schemas.eventsKwargs,
  "build.logs": schemas.logsKwargs,
  "build.graph": schemas.graphKwargs,
  "schema.get": schemas.schemaKwargs,
  "queue.status": schemas.queueStatusKwargs,
  "sync.get": schemas.syncGetKwargs,
  "deployment.history": schemas.historyKwargs,
  "webhook.create": schemas.webhookCreateKwargs,
  "webhook.list": schemas.webhookListKwargs,
  "webhook.delete": schemas.webhookDeleteKwargs,
  "webhook.deliveries": schemas.webhookDeliveriesKwargs,
};

const allowedErrorCodes = new Set(["invalid_argument", "not_found", "not_authorized", "conflict", "unavailable", "resource_exhausted"]);

let svc: HostileService;
beforeAll(async () => {
  svc = await startHostileService({ env: { FEDIVERSITY_EVAL_TIMEOUT_SECS: "20" } });
}, 90_000);
afterAll(async () => {
  await svc?.dispose();
});

function principal(role: string, tenant?: string): Principal {
  const p = svc.principals.find((x) => x.role === role && (tenant === undefined || x.tenant === tenant));
  if (!p) throw new Error(`no principal ${role}`);
  return p;
}

const mpClient = msgpack5();
function clientCanEncode(s: Serializer, v: unknown): boolean {
  try {
    if (s === "json") JSON.stringify(v);
    else if (s === "msgpack") mpClient.encode(v);
    else cbor.encodeOne(v, { highWaterMark: 1 << 30 } as Parameters<typeof cbor.encodeOne>[1]);
    return true;
  } catch {
    return false;
  }
}

describe("API fuzz over autobahn-js", () => {
  it(`answers ${apiCases} mutated calls with typed errors or results, never a crash or a hang`, { timeout: 150_000 }, async () => {
    const seed = fuzzSeed("api fuzz");
    const rand: Rand = prng(seed);
    const who: { p: Principal; tenant: string; serializer: Serializer }[] = [
      { p: principal("tenant", "acme"), tenant: "acme", serializer: "json" },
      { p: principal("panel"), tenant: "beta", serializer: "msgpack" },
      { p: principal("operator"), tenant: "acme", serializer: "cbor" },
      { p: principal("tenant", "beta"), tenant: "beta", serializer: "cbor" },
    ];
    const sessions = await Promise.all(who.map((w) => openSession(svc.url, w.p, { serializer: w.serializer })));
    const reopening: (Promise<void> | null)[] = who.map(() => null);
    const opened = [...sessions];
    const ctx = { deployments: ["fz1", "fz2", "a".repeat(63)], syncs: [] as string[] };
    const tally = { cases: 0, unencodable: 0, ok: 0, typed: 0, closed: 0, hangs: 0, internal: 0, untyped: 0, validSubmits: 0 };
    const findings: string[] = [];
    const closeReasons: Record<string, number> = {};
    const closeSamples: string[] = [];

    const oneCase = async (n: number): Promise<void> => {
      const w = n % who.length;
      const { tenant, serializer } = who[w]!;
      const procedure = pick(rand, Object.keys(procedures));
      const keys = Object.keys(procedures[procedure]!.shape);
      const kwargs: Record<string, unknown> = {};
      for (const k of keys) if (k === "deployment" || k === "configuration" || k === "sync" || rand() < 0.4) kwargs[k] = validValue(rand, k, { ...ctx, tenant });
      if (who[w]!.p.role !== "tenant" && keys.includes("tenant")) kwargs.tenant = tenant;
      // Mutate: usually 1-3 keys; a few valid calls (submits kept rare so Nix is not the bottleneck).
      const valid = procedure === "deployment.submit" ? rand() < 0.01 : rand() < 0.1;
      if (!valid) {
        const mutations = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < mutations; i++) {
          const r = rand();
          if (r < 0.15) delete kwargs[pick(rand, keys.length > 0 ? keys : ["x"])];
          else if (r < 0.25) kwargs[pick(rand, ["extra", "__proto__", "constructor", "", "Tenant", "é"])] = hostileValue(rand, serializer !== "json");
          else if (keys.length > 0) kwargs[pick(rand, keys)] = hostileValue(rand, serializer !== "json");
        }
        if (procedure === "deployment.submit" && rand() < 0.05) kwargs.configuration = { salt: "x", note: "n".repeat(300 * 1024) };
      } else if (procedure === "deployment.submit") {
        tally.validSubmits++;
      }
      if (kwargs.follow === true) kwargs.sync = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
      const positional = rand() < 0.03 ? [hostileValue(rand, false)] : [];
      tally.cases++;
      if (!clientCanEncode(serializer, [positional, kwargs])) {
        // autobahn-js itself cannot serialise it (its encoders recurse, or choke on odd objects).
        tally.unencodable++;
        return;
      }
      const r = await boundedCall(sessions[w]!, `fediversity.${procedure}`, kwargs, callTimeoutMs, positional);
      const show = () => {
        let text: string;
        try {
          text = JSON.stringify(kwargs, (_k, v: unknown) => (typeof v === "string" && v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v)).slice(0, 400);
        } catch {
          text = `{${Object.keys(kwargs).join(",")}} (too deep to print)`;
        }
        return `${procedure} as ${who[w]!.p.authid}: ${text}`;
      };
      if (r.kind === "ok") {
        tally.ok++;
        const sync = (r.value as { sync?: { sync?: string } })?.sync?.sync;
        if (sync && ctx.syncs.length < 50) ctx.syncs.push(sync);
      } else if (r.kind === "error") {
        const code = r.kwargs.code;
        if (r.uri === "fediversity.error.internal") {
          tally.internal++;
          findings.push(`internal: ${show()} → ${String(r.args[0])}`);
        } else if (r.uri.startsWith("fediversity.error.") && typeof code === "string" && allowedErrorCodes.has(code) && r.uri === `fediversity.error.${code}` && typeof r.args[0] === "string") {
          tally.typed++;
        } else if (r.uri.startsWith("wamp.error.")) {
          tally.typed++;
        } else {
          tally.untyped++;
          findings.push(`untyped error ${r.uri}: ${show()}`);
        }
      } else if (r.kind === "timeout") {
        tally.hangs++;
        findings.push(`hang: ${show()}`);
      } else {
        tally.closed++;
        const why = r.message.split(" ").slice(0, 3).join(" ").slice(0, 120);
        closeReasons[why] = (closeReasons[why] ?? 0) + 1;
        if (closeSamples.length < 5) closeSamples.push(`${show()} → ${r.message.slice(0, 200)}`);
        // The session was closed (e.g. the router refused a frame): one worker opens a fresh one.
        const stale = sessions[w]!;
        reopening[w] ??= openSession(svc.url, who[w]!.p, { serializer }).then((s) => {
          sessions[w] = s;
          reopening[w] = null;
          opened.push(s);
        });
        if (sessions[w] === stale) await reopening[w];
      }
    };

    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < apiCases) await oneCase(next++);
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    const secs = (Date.now() - started) / 1000;
    process.stdout.write(`[hostile] api fuzz: ${JSON.stringify(tally)} in ${secs.toFixed(1)} s (seed ${seed}); closes ${JSON.stringify(closeReasons)}\n${closeSamples.join("\n")}\n`);

    // Still alive and answering.
    expect(svc.alive()).toBe(true);
    expect((await healthz(svc.httpUrl))?.status).toBe("ok");
    const schema = await mustCall<{ deployment_types: Record<string, unknown> }>(sessions[2]!, "schema.get", {});
    expect(Object.keys(schema.deployment_types)).toContain("hostile");
    for (const s of opened) if (s.isOpen) s.connection.close();
    report("api-fuzz", { seed, ...tally, closeReasons, secs, crashes: svc.alive() ? 0 : 1, findings: findings.slice(0, 20) });
    expect(findings.slice(0, 10)).toEqual([]);
    expect(tally.cases).toBe(apiCases);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) raw frames

const mp = msgpack5();
const encode: Record<Serializer, (v: unknown) => Buffer | string> = {
  json: (v) => JSON.stringify(v),
  msgpack: (v) => mp.encode(v) as unknown as Buffer,
  cbor: (v) => cbor.encodeOne(v),
};
const decode: Record<Serializer, (b: Buffer) => unknown> = {
  json: (b) => JSON.parse(b.toString("utf8")),
  msgpack: (b) => mp.decode(b),
  cbor: (b) => cbor.decodeFirstSync(b),
};

type Frame = { data: Buffer | string; binary: boolean };

function frameOf(s: Serializer, v: unknown): Frame {
  return { data: encode[s](v), binary: s !== "json" };
}

function randomBytes(rand: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const codes = [1, 2, 3, 4, 5, 6, 8, 16, 17, 32, 33, 34, 35, 36, 48, 49, 50, 64, 65, 66, 67, 68, 69, 70, 0, 7, 99, 255, -1, 2 ** 53, 1.5];

function randomField(rand: Rand): unknown {
  return pick(rand, [0, 1, -1, 2 ** 53, 2 ** 53 + 2, 1.5, "x", "", "wamp.error.x", "fediversity.deployment.get", "a..b", "ACME", null, true, {}, [], { a: [] }, [1, 2], "\ud800", deepNest(50, "array")]);
}

/** Hostile messages to send inside an established session (or before it). */
function hostileFrames(rand: Rand, s: Serializer): Frame[] {
  const r = rand();
  const msg = (v: unknown) => frameOf(s, v);
  if (r < 0.12) {
    // malformed encoding
    const valid = encode[s]([48, 1, {}, "fediversity.schema.get", [], {}]);
    const bytes = Buffer.isBuffer(valid) ? valid : Buffer.from(valid);
    const k = rand();
    const data = k < 0.3 ? randomBytes(rand, 1 + Math.floor(rand() * 64)) : k < 0.6 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : k < 0.8 ? Buffer.concat([bytes, randomBytes(rand, 3)]) : Buffer.from([0xff, 0xfe, 0xc1]);
    return [{ data: s === "json" && rand() < 0.5 ? data.toString("latin1") : data, binary: s === "json" ? rand() < 0.3 : rand() < 0.9 }];
  }
  if (r < 0.2) return [msg(pick(rand, [null, 1, "x", {}, [], ["48"], [null], { 0: 48 }, true]))];
  if (r < 0.5) {
    // a known or unknown code with random arity and field types
    const arity = Math.floor(rand() * 8);
    return [msg([pick(rand, codes), ...Array.from({ length: arity }, () => randomField(rand))])];
  }
  if (r < 0.7) {
    // plausible messages with one field wrong
    const base = pick(rand, [
      [48, 7, {}, "fediversity.schema.get", [], {}],
      [32, 8, { match: "prefix" }, "fediversity.events.acme."],
      [16, 9, { acknowledge: true }, "fediversity.events.acme.x", [1]],
      [64, 10, {}, "com.x.proc"],
      [49, 7, {}],
      [70, 123, {}, [1]],
      [34, 11, 999],
      [66, 12, 999],
      [6, {}, "wamp.close.normal"],
      [1, "fediversity", { roles: { caller: {} } }],
      [5, "sig", {}],
      [8, 68, 5, {}, "wamp.error.x"],
    ] as unknown[][]);
    const copy = [...base];
    const i = 1 + Math.floor(rand() * (copy.length - 1));
    copy[i] = randomField(rand);
    if (rand() < 0.3) copy.push(randomField(rand));
    return [msg(copy)];
  }
  if (r < 0.8) {
    // out of order / repeated
    return pick(rand, [
      [msg([1, "fediversity", { roles: { caller: {} } }])],
      [msg([2, 1, { roles: {} }])],
      [msg([5, "ticket", {}]), msg([5, "ticket", {}])],
      [msg([6, {}, "wamp.close.normal"]), msg([48, 3, {}, "fediversity.schema.get"])],
      [msg([70, 77, {}]), msg([8, 68, 77, {}, "x.y"])],
      [msg([50, 1, {}]), msg([36, 1, 2, {}])],
      [msg([49, 424242, { mode: "kill" }])],
    ]);
  }
  if (r < 0.9) {
    // deep nesting and long lists
    const depth = pick(rand, [100, 1000, 10_000, 50_000]);
    return [msg([48, 5, {}, "fediversity.schema.get", [deepNest(depth, rand() < 0.5 ? "array" : "object")], {}])];
  }
  if (r < 0.91) {
    // oversize (the router's limit is 4 MiB); rare, each one is 4 MiB to encode and send
    return [msg([48, 6, {}, "fediversity.schema.get", ["x".repeat(4 * 1024 * 1024 + 100)], {}])];
  }
  // many messages in a burst
  return Array.from({ length: 200 }, (_, i) => msg([48, 1000 + i, {}, "fediversity.no.such.proc" + (i % 3), [], {}]));
}

interface RawOutcome {
  kind: "answered" | "closed" | "hang";
  detail: string;
}

/** One raw connection: optional handshake, hostile frames, then a probe that must be answered (or the connection closed). */
function rawCase(url: string, s: Serializer, handshake: Principal | null, frames: Frame[], timeoutMs = 8000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [`wamp.2.${s}`]);
    let phase: "hello" | "auth" | "fuzz" | "probe" = "hello";
    let done = false;
    const finish = (o: RawOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => undefined);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: "hang", detail: `no answer in ${timeoutMs} ms during ${phase}` }), timeoutMs);
    const send = (f: Frame): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(f.data, { binary: f.binary });
    };
    const probe = (): void => {
      phase = "probe";
      send(handshake ? frameOf(s, [48, 987654, {}, "fediversity.schema.get", [], {}]) : frameOf(s, [1, "fediversity", { roles: { caller: {} }, authmethods: ["ticket"], authid: "nobody" }]));
    };
    const fuzz = (): void => {
      phase = "fuzz";
      for (const f of frames) send(f);
      probe();
    };
    ws.on("open", () => {
      if (handshake) send(frameOf(s, [1, "fediversity", { roles: { caller: {}, subscriber: {}, publisher: {}, callee: {} }, authmethods: ["ticket"], authid: handshake.authid }]));
      else fuzz();
    });
    ws.on("message", (data: Buffer) => {
      let m: unknown[];
      try {
        m = decode[s](data) as unknown[];
      } catch {
        finish({ kind: "answered", detail: "undecodable answer" });
        return;
      }
      if (!Array.isArray(m)) return;
      if (m[0] === 3) return finish({ kind: "closed", detail: `ABORT ${String(m[2])}` });
      if (phase === "hello" && m[0] === 4) {
        phase = "auth";
        send(frameOf(s, [5, handshake!.ticket, {}]));
      } else if (phase === "auth" && m[0] === 2) {
        fuzz();
      } else if (phase === "probe") {
        // any answer to the probe (RESULT/ERROR for the call, WELCOME/CHALLENGE/ABORT for HELLO)
        const ours = (m[0] === 50 && m[1] === 987654) || (m[0] === 8 && m[2] === 987654);
        if (ours || (!handshake && (m[0] === 2 || m[0] === 4)) || m[0] === 6) finish({ kind: "answered", detail: String(m[0]) });
      }
    });
    ws.on("close", (code) => finish({ kind: "closed", detail: `close ${code}` }));
    ws.on("error", (err) => finish({ kind: "closed", detail: `error ${err.message}` }));
  });
}

describe("router frame fuzz over raw ws", () => {
  it(`answers or closes on ${frameCases} hostile frame sequences on json, msgpack and cbor`, { timeout: 150_000 }, async () => {
    const seed = fuzzSeed("frame fuzz");
    const rand = prng(seed);
    const serializers: Serializer[] = ["json", "msgpack", "cbor"];
    const tally = { cases: 0, answered: 0, closed: 0, hangs: 0, perSerializer: { json: 0, msgpack: 0, cbor: 0 } };
    const hangs: string[] = [];
    let next = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < frameCases) {
        const n = next++;
        const s = serializers[n % 3]!;
        const established = rand() < 0.7;
        let frames: Frame[];
        try {
          frames = hostileFrames(rand, s);
        } catch {
          // our own encoder gave up (nesting too deep for it): send the deepest it can do
          frames = [frameOf(s, [48, 5, {}, "fediversity.schema.get", [deepNest(1000, "array")], {}])];
        }
        const o = await rawCase(svc.url, s, established ? principal("tenant", "acme") : null, frames);
        tally.cases++;
        tally.perSerializer[s]++;
        tally[o.kind === "hang" ? "hangs" : o.kind]++;
        if (o.kind === "hang" && hangs.length < 10) hangs.push(`${s} ${established ? "established" : "pre-session"}: ${o.detail}: ${frames.map((f) => (typeof f.data === "string" ? f.data : f.data.toString("hex")).slice(0, 120)).join(" | ")}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const secs = (Date.now() - started) / 1000;
    process.stdout.write(`[hostile] frame fuzz: ${JSON.stringify(tally)} in ${secs.toFixed(1)} s (seed ${seed})\n`);
    expect(svc.alive()).toBe(true);
    expect((await healthz(svc.httpUrl))?.status).toBe("ok");
    // A real client still works.
    const session = await openSession(svc.url, principal("operator"), { serializer: "cbor" });
    const q = await mustCall<{ syncs: Record<string, number> }>(session, "queue.status", {});
    expect(typeof q.syncs.queued).toBe("number");
    session.connection.close();
    const internalErrors = (svc.output().match(/message handling failed/g) ?? []).length;
    report("frame-fuzz", { seed, ...tally, secs, crashes: svc.alive() ? 0 : 1, routerInternalErrors: internalErrors, hangSamples: hangs });
    expect(hangs).toEqual([]);
    expect(internalErrors).toBe(0);
  });
});
