/**
 * Router benchmark: `npx tsx bench/router.ts`.
 * The router runs in this process; clients run in child processes (fork) and speak raw WAMP
 * JSON over `ws` (a lean client, so the figures measure the router rather than a client library).
 * Prints events/s to 1 and 10 subscribers, RPC calls/s with 1 and 50 in flight, and memory per idle session.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebSocket } from "ws";
import { createRouter } from "../src/router/index.js";

type Msg = unknown[];
type Command =
  | { cmd: "subscribe"; url: string; connections: number; expect: number }
  | { cmd: "publish"; url: string; count: number }
  | { cmd: "callee"; url: string }
  | { cmd: "call"; url: string; count: number; inFlight: number }
  | { cmd: "idle"; url: string; connections: number };

// ---------------------------------------------------------------- client side (child process)
function openClient(url: string, onMessage: (m: Msg) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["wamp.2.json"], { perMessageDeflate: false });
    ws.on("error", reject);
    ws.on("open", () => {
      ws.send(JSON.stringify([1, "fediversity", { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} }, authmethods: ["anonymous"] }]));
    });
    // Batch the frames of one tick into one write, as the router does.
    const send = ws.send.bind(ws);
    let corked = false;
    ws.send = ((data: string) => {
      const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      send(data);
    }) as typeof ws.send;
    let welcomed = false;
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString()) as Msg;
      if (!welcomed) {
        if (m[0] !== 2) reject(new Error(`not welcomed: ${data.toString()}`));
        welcomed = true;
        resolve(ws);
        return;
      }
      onMessage(m);
    });
  });
}

const report = (value: unknown): void => void process.send!(value);

async function child(command: Command): Promise<void> {
  switch (command.cmd) {
    case "subscribe": {
      let received = 0;
      let first = 0;
      const total = command.expect * command.connections;
      for (let i = 0; i < command.connections; i++) {
        const ws = await openClient(command.url, (m) => {
          if (m[0] !== 36) return;
          if (received === 0) first = performance.now();
          received++;
          if (received === total) report({ done: true, received, ms: performance.now() - first });
        });
        ws.send(JSON.stringify([32, 1, {}, "bench.events"]));
      }
      await new Promise((r) => setTimeout(r, 200));
      report({ ready: true });
      return;
    }
    case "publish": {
      const pending: (() => void)[] = [];
      const ws = await openClient(command.url, (m) => {
        if (m[0] === 17) pending.shift()?.();
      });
      const window = 2000;
      const inFlight: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 1; i <= command.count; i++) {
        const ack = i % window === 0;
        ws.send(`[16,${i},${ack ? '{"acknowledge":true}' : "{}"},"bench.events",[${i}],{"n":"payload"}]`);
        if (ack) {
          inFlight.push(new Promise<void>((r) => pending.push(r)));
          if (inFlight.length >= 4) await inFlight.shift();
        }
      }
      await Promise.all(inFlight);
      report({ done: true, ms: performance.now() - start });
      return;
    }
    case "callee": {
      const ws = await openClient(command.url, (m) => {
        if (m[0] === 68) ws.send(`[70,${String(m[1])},{},${JSON.stringify(m[4] ?? [])}]`);
        else if (m[0] === 65) report({ ready: true });
      });
      ws.send(JSON.stringify([64, 1, {}, "bench.echo"]));
      return;
    }
    case "call": {
      let next = 1;
      let completed = 0;
      let start = 0;
      const ws = await openClient(command.url, (m) => {
        if (m[0] !== 50) return;
        completed++;
        if (completed === command.count) report({ done: true, ms: performance.now() - start });
        else if (next <= command.count) send();
      });
      const send = (): void => {
        ws.send(`[48,${next},{},"bench.echo",[${next}]]`);
        next++;
      };
      start = performance.now();
      for (let i = 0; i < command.inFlight; i++) send();
      return;
    }
    case "idle": {
      for (let i = 0; i < command.connections; i++) await openClient(command.url, () => undefined);
      report({ ready: true });
      return;
    }
    default: {
      const never: never = command;
      return never;
    }
  }
}

// ---------------------------------------------------------------- parent (router) side
const self = fileURLToPath(import.meta.url);

function spawn(command: Command): { proc: ChildProcess; next: () => Promise<Record<string, unknown>> } {
  const proc = fork(self, ["--child", JSON.stringify(command)], { execArgv: process.execArgv });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  proc.on("message", (m: Record<string, unknown>) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return {
    proc,
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
  };
}

/** Router CPU time per operation (µs): independent of what else the machine runs. */
let lastCpuPerOp = 0;
function cpuMeter(): (ops: number) => void {
  const start = process.cpuUsage();
  return (ops) => {
    const used = process.cpuUsage(start);
    lastCpuPerOp = (used.user + used.system) / ops;
  };
}

async function events(url: string, subscribers: number, count: number): Promise<number> {
  const sub = spawn({ cmd: "subscribe", url, connections: subscribers, expect: count });
  await sub.next();
  const stop = cpuMeter();
  const pub = spawn({ cmd: "publish", url, count });
  const result = await sub.next();
  stop(count);
  await pub.next();
  sub.proc.kill();
  pub.proc.kill();
  return (count / (result.ms as number)) * 1000;
}

async function calls(url: string, inFlight: number, count: number): Promise<number> {
  const callee = spawn({ cmd: "callee", url });
  await callee.next();
  const stop = cpuMeter();
  const caller = spawn({ cmd: "call", url, count, inFlight });
  const result = await caller.next();
  stop(count);
  caller.proc.kill();
  callee.proc.kill();
  await new Promise((r) => setTimeout(r, 200));
  return (count / (result.ms as number)) * 1000;
}

async function idleMemory(url: string, connections: number): Promise<{ heap: number }> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const measure = (): { heap: number; rss: number } => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, rss: m.rss };
  };
  const before = measure();
  const idle = spawn({ cmd: "idle", url, connections });
  await idle.next();
  await new Promise((r) => setTimeout(r, 300));
  const after = measure();
  idle.proc.kill();
  return { heap: (after.heap - before.heap) / connections };
}

async function main(): Promise<void> {
  const router = createRouter({ anonymous: { role: "bench" }, maxBufferedBytes: 256 * 1024 * 1024, pingIntervalMs: 0 });
  const { url } = await router.listen({ port: 0 });
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  console.log(`router ${url}; clients: raw WAMP JSON over ws in child processes; node ${process.version}`);
  await events(url, 1, 20_000); // warm-up
  const e1 = await events(url, 1, 300_000);
  const cpu = (): string => `(router CPU ${lastCpuPerOp.toFixed(1)} µs/op)`;
  console.log(`events/s, 1 subscriber:          ${fmt(e1)} ${cpu()}`);
  const e10 = await events(url, 10, 50_000);
  console.log(`events/s, 10 subscribers:        ${fmt(e10)} publications/s = ${fmt(e10 * 10)} deliveries/s ${cpu()}`);
  await calls(url, 50, 20_000); // warm-up
  const c1 = await calls(url, 1, 30_000);
  console.log(`RPC calls/s, 1 in flight:        ${fmt(c1)} ${cpu()}`);
  const c50 = await calls(url, 50, 200_000);
  console.log(`RPC calls/s, 50 in flight:       ${fmt(c50)} ${cpu()}`);
  console.log(`load average during the run: ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")} on ${(await import("node:os")).cpus().length} cores`);
  const mem = await idleMemory(url, 1000);
  // JS heap after GC (sessions, ws objects, buffers referenced from JS); socket kernel buffers not included.
  console.log(`memory per idle session (1000):  ${(mem.heap / 1024).toFixed(1)} KiB JS heap`);
  await router.close();
}

const childIndex = process.argv.indexOf("--child");
if (childIndex >= 0) await child(JSON.parse(process.argv[childIndex + 1]!) as Command);
else await main();
