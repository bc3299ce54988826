/**
 * Lean WAMP clients for bench/peers.ts, in a process apart from the router: raw WebSocket frames
 * (./raw-websocket.ts), WAMP JSON written by hand, and incoming messages classified by their
 * first bytes, so that per message the client does next to nothing and the router is what limits.
 * The same code drives every router. Requests (one at a time per role):
 *   subscribe {url, connections, expect}  sessions subscribed to `bench.events`; arms the counter
 *   await-events {timeoutMs}              waits for expect × connections EVENTs: {received, ms}
 *   publish {url, count}                  PUBLISHes with an acknowledged window: {ms}
 *   register {url}                        a callee of `bench.echo` that YIELDs its arguments
 *   call {url, count, inFlight, timeoutMs}  CALLs keeping `inFlight` outstanding: {completed, ms}
 *   idle {url, connections}               joined sessions that do nothing
 *   close-all                             closes every connection this process opened
 *   cpu-start / cpu-stop                  this process's CPU between them (µs), to show it is not the limit
 */
import { performance } from "node:perf_hooks";
import { serveParent } from "./child-link.js";
import { openRawWebSocket, type RawWebSocket } from "./raw-websocket.js";

const REALM = "fediversity";
const HELLO = JSON.stringify([
  1,
  REALM,
  { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} }, authmethods: ["anonymous"] },
]);
const WELCOME = 2;
const PUBLISHED = 17;
const SUBSCRIBED = 33;
const EVENT = 36;
const RESULT = 50;
const REGISTERED = 65;
const INVOCATION = 68;
/** Publications per acknowledged window, and windows outstanding. */
const PUBLISH_WINDOW = 2000;
const PUBLISH_WINDOWS = 4;

/** The WAMP message type of a JSON frame, read from its first bytes (`[36,...`), or -1. */
function messageType(buf: Buffer, start: number, end: number): number {
  if (buf[start] !== 0x5b) return -1;
  let n = 0;
  for (let i = start + 1; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x2c) return n;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return -1;
}

const open = new Set<RawWebSocket>();

/** Opens a connection and joins the realm; `onMessage` sees every message after WELCOME. */
async function join(url: string, onMessage: (type: number, buf: Buffer, start: number, end: number) => void): Promise<RawWebSocket> {
  let welcomed!: () => void;
  let refused!: (e: Error) => void;
  const joined = new Promise<void>((resolve, reject) => {
    welcomed = resolve;
    refused = reject;
  });
  let inSession = false;
  let opened: RawWebSocket | undefined = undefined; // set once open; a close may come first
  const ws = await openRawWebSocket({
    url,
    protocol: "wamp.2.json",
    onMessage(buf, start, end) {
      const type = messageType(buf, start, end);
      if (inSession) onMessage(type, buf, start, end);
      else if (type === WELCOME) {
        inSession = true;
        welcomed();
      } else refused(new Error(`not welcomed: ${buf.toString("utf8", start, end)}`));
    },
    onClose(error) {
      if (opened) open.delete(opened);
      if (error) console.error(`wamp-client-host: connection to ${url} failed: ${error.message}`);
      refused(error ?? new Error("connection closed before WELCOME"));
    },
  });
  opened = ws;
  open.add(ws);
  if (ws.protocol !== "wamp.2.json") throw new Error(`router chose subprotocol '${ws.protocol}'`);
  ws.send(HELLO);
  await joined;
  return ws;
}

/** Waits for one reply of `type` (SUBSCRIBED, REGISTERED) after a request; anything else fails. */
function expectReply(type: number): { onMessage(t: number, buf: Buffer, s: number, e: number): boolean; done: Promise<void> } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let pending = true;
  return {
    done,
    onMessage(t, buf, s, e) {
      if (!pending) return false;
      pending = false;
      if (t === type) resolve();
      else reject(new Error(`expected message ${type}, got ${buf.toString("utf8", s, e)}`));
      return true;
    },
  };
}

// ------------------------------------------------------------------ subscribers
let expected = 0;
let received = 0;
let firstAt = 0;
let lastAt = 0;
let allReceived: (() => void) | undefined;

async function subscribe(url: string, connections: number, expect: number): Promise<void> {
  expected = expect * connections;
  received = 0;
  for (let i = 0; i < connections; i++) {
    const reply = expectReply(SUBSCRIBED);
    const ws = await join(url, (type, buf, s, e) => {
      if (type === EVENT) {
        const now = performance.now();
        if (received === 0) firstAt = now;
        lastAt = now;
        received++;
        if (received === expected) allReceived?.();
      } else reply.onMessage(type, buf, s, e);
    });
    ws.send(`[32,1,{},"bench.events"]`);
    await reply.done;
  }
}

async function awaitEvents(timeoutMs: number): Promise<{ received: number; expected: number; ms: number }> {
  if (received < expected) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      allReceived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    allReceived = undefined;
  }
  return { received, expected, ms: lastAt - firstAt };
}

// ------------------------------------------------------------------ publisher
async function publish(url: string, count: number): Promise<{ ms: number }> {
  const acks: (() => void)[] = [];
  let failed: Error | undefined;
  const ws = await join(url, (type, buf, s, e) => {
    if (type === PUBLISHED) acks.shift()?.();
    else {
      failed ??= new Error(`publish failed: ${buf.toString("utf8", s, e)}`);
      for (const ack of acks.splice(0)) ack();
    }
  });
  const outstanding: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 1; i <= count && !failed; i++) {
    const ack = i % PUBLISH_WINDOW === 0 || i === count;
    ws.send(`[16,${i},${ack ? '{"acknowledge":true}' : "{}"},"bench.events",[${i}],{"n":"payload"}]`);
    if (ack) {
      outstanding.push(new Promise<void>((r) => acks.push(r)));
      if (outstanding.length >= PUBLISH_WINDOWS) await outstanding.shift();
    }
  }
  await Promise.all(outstanding);
  if (failed) throw failed;
  return { ms: performance.now() - start };
}

// ------------------------------------------------------------------ RPC
async function register(url: string): Promise<void> {
  const reply = expectReply(REGISTERED);
  const ws: RawWebSocket = await join(url, (type, buf, s, e) => {
    if (type !== INVOCATION) {
      reply.onMessage(type, buf, s, e);
      return;
    }
    // [68, request, registration, details, args?, kwargs?] → [70, request, {}, args]
    const m = JSON.parse(buf.toString("utf8", s, e)) as unknown[];
    ws.send(`[70,${String(m[1])},{},${JSON.stringify(m[4] ?? [])}]`);
  });
  ws.send(`[64,1,{},"bench.echo"]`);
  await reply.done;
}

async function call(url: string, count: number, inFlight: number, timeoutMs: number): Promise<{ completed: number; ms: number }> {
  let next = 1;
  let completed = 0;
  let lastResultAt = 0;
  let failed: Error | undefined;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const send = (): void => {
    ws.send(`[48,${next},{},"bench.echo",[${next}]]`);
    next++;
  };
  const ws = await join(url, (type, buf, s, e) => {
    if (type !== RESULT) {
      failed ??= new Error(`call failed: ${buf.toString("utf8", s, e)}`);
      finished();
      return;
    }
    completed++;
    lastResultAt = performance.now();
    if (completed === count) finished();
    else if (next <= count) send();
  });
  const start = performance.now();
  for (let i = 0; i < Math.min(inFlight, count); i++) send();
  const timer = setTimeout(finished, timeoutMs);
  await done;
  clearTimeout(timer);
  if (failed) throw failed;
  return { completed, ms: (completed === count ? lastResultAt : performance.now()) - start };
}

// ------------------------------------------------------------------ idle sessions
async function idle(url: string, connections: number): Promise<void> {
  // A few at a time: a burst of a thousand handshakes would measure the accept queue instead.
  const batch = 50;
  for (let i = 0; i < connections; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, connections - i) }, () => join(url, () => undefined)));
  }
}

async function closeAll(): Promise<void> {
  await Promise.all([...open].map((ws) => ws.close()));
  open.clear();
}

let cpuFrom: NodeJS.CpuUsage | undefined;

serveParent({}, async (m) => {
  const url = m.url as string;
  switch (m.cmd) {
    case "cpu-start":
      cpuFrom = process.cpuUsage();
      return {};
    case "cpu-stop": {
      const used = process.cpuUsage(cpuFrom);
      return { us: used.user + used.system };
    }
    case "subscribe":
      return subscribe(url, m.connections as number, m.expect as number);
    case "await-events":
      return awaitEvents(m.timeoutMs as number);
    case "publish":
      return publish(url, m.count as number);
    case "register":
      return register(url);
    case "call":
      return call(url, m.count as number, m.inFlight as number, m.timeoutMs as number);
    case "idle":
      return idle(url, m.connections as number);
    case "close-all":
      return closeAll();
    default:
      throw new Error(`unknown request ${String(m.cmd)}`);
  }
}, closeAll);
