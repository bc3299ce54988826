/**
 * API benchmark: `npx tsx bench/api.ts` (issue 6 §7).
 *
 * The whole service runs in this process (store, rio client, runner, embedded router, API) with a
 * local scheduler started here (the service reaches it over gRPC with --rio-url) so that we hold its
 * `faults.injectEvents` knob. A sync with a long-sleeping build keeps a build live; synthetic
 * BuildEvents are injected into it and travel scheduler → gRPC WatchBuild → rio client → build
 * recorder → SQLite commit → publish → router → WebSocket → subscriber.
 *
 * Prints:
 * 1. event latency, injection → WAMP subscriber (autobahn-js, in this process, same clock), p50/p99,
 *    at 1,000 events/s paced by a timer;
 * 2. the most events/s delivered to 10 subscribers (raw WAMP-JSON clients in a child process, so the
 *    client side costs the service nothing): N events injected as fast as the knob goes, timed until
 *    every subscriber has all N;
 * 3. log lines/s from the scheduler to a `build.logs` follower (follow: true with progressive
 *    results, autobahn-js in a child process): N one-line log events, timed until the follower
 *    has all N lines.
 * Targets: p99 < 10 ms, ≥ 30,000 events/s, ≥ 100,000 log lines/s.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import autobahn from "autobahn";
import { WebSocket } from "ws";
import { parseServiceConfig } from "../src/config.js";
import { startService } from "../src/main.js";
import { nixConfigText } from "../src/nix-env.js";
import { createLocalScheduler } from "../src/scheduler/index.js";

const typesPath = fileURLToPath(new URL("../test/fixtures/e2e/deployment-types.json", import.meta.url));

type ChildCommand =
  | { cmd: "scheduler" }
  | { cmd: "subscribers"; url: string; authid: string; ticket: string; topic: string; sync: string; connections: number }
  | { cmd: "follower"; url: string; authid: string; ticket: string; deployment: string; sync: string; sinceLine: number };

type ChildReport =
  | { type: "ready"; url?: string }
  | { type: "count"; min: number; total: number; cpuMs: number }
  | { type: "injected"; id: number; cpuMs: number }
  | { type: "error"; message: string };

type InjectRequest = { id: number; buildId: string; count: number; kind: "log" | "progress"; lines?: number };

// ------------------------------------------------------------------------- child process side
const report = (r: ChildReport): void => void process.send?.(r);
/** CPU this process has used so far: children report it, so the figures show where the cores went. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function rawSubscriber(c: Extract<ChildCommand, { cmd: "subscribers" }>, onEvent: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(c.url, ["wamp.2.json"], { perMessageDeflate: false });
    ws.on("error", reject);
    ws.on("open", () => ws.send(JSON.stringify([1, "fediversity", { roles: { subscriber: {} }, authmethods: ["ticket"], authid: c.authid }])));
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString()) as unknown[];
      switch (m[0]) {
        case 4: // CHALLENGE
          ws.send(JSON.stringify([5, c.ticket, {}]));
          break;
        case 2: // WELCOME
          ws.send(JSON.stringify([32, 1, {}, c.topic]));
          break;
        case 33: // SUBSCRIBED
          resolve();
          break;
        case 36: {
          // EVENT
          const e = (m[4] as { type: string; sync: string }[] | undefined)?.[0];
          if (e?.type === "build.progress" && e.sync === c.sync) onEvent();
          break;
        }
        default:
          reject(new Error(`unexpected ${data.toString().slice(0, 200)}`));
      }
    });
  });
}

async function runChild(c: ChildCommand): Promise<void> {
  if (c.cmd === "scheduler") {
    // The local scheduler in its own process: its CPU is not the service's. The parent drives
    // the injection knob over IPC.
    const scheduler = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 2 });
    process.on("message", (m: InjectRequest) => {
      void scheduler.faults.injectEvents(m.buildId, m.count, m.kind, m.lines ?? 1).then(
        () => report({ type: "injected", id: m.id, cpuMs: cpuMs() }),
        (err: unknown) => report({ type: "error", message: String(err) }),
      );
    });
    process.once("disconnect", () => void scheduler.close().then(() => process.exit(0)));
    report({ type: "ready", url: scheduler.url });
    return;
  }
  if (c.cmd === "subscribers") {
    const counts = new Array<number>(c.connections).fill(0);
    await Promise.all(counts.map((_, i) => rawSubscriber(c, () => (counts[i] = (counts[i] ?? 0) + 1))));
    report({ type: "ready" });
    setInterval(() => report({ type: "count", min: Math.min(...counts), total: counts.reduce((a, b) => a + b, 0), cpuMs: cpuMs() }), 5).unref();
    return;
  }
  (autobahn.log as unknown as { warn: () => void }).warn = () => {};
  const connection = new autobahn.Connection({
    url: c.url,
    realm: "fediversity",
    authmethods: ["ticket"],
    authid: c.authid,
    onchallenge: () => c.ticket,
    max_retries: 0,
  });
  connection.onopen = (session) => {
    let lines = 0;
    const call = session.call("fediversity.build.logs", [], { deployment: c.deployment, sync: c.sync, since_line: c.sinceLine, limit: 10_000, follow: true }, { receive_progress: true }) as unknown as {
      then(ok: (r: unknown) => void, fail: (e: unknown) => void, progress: (p: unknown) => void): void;
    };
    call.then(
      () => undefined,
      (e) => report({ type: "error", message: JSON.stringify(e) }),
      (p) => {
        const batch = (p instanceof autobahn.Result ? p.args[0] : p) as { lines: unknown[] };
        lines += batch.lines.length;
      },
    );
    setInterval(() => report({ type: "count", min: lines, total: lines, cpuMs: cpuMs() }), 5).unref();
    report({ type: "ready" });
  };
  connection.open();
}

// ------------------------------------------------------------------------- parent side
interface Child {
  readonly proc: ChildProcess;
  min: number;
  /** The child's CPU time so far (ms), as last reported. */
  cpuMs: number;
  url: string;
  ready: Promise<void>;
  /** Scheduler child: injects `count` synthetic events into the build; resolves when emitted. */
  inject(buildId: string, count: number, kind: "log" | "progress", lines?: number): Promise<void>;
}

function startChild(c: ChildCommand): Child {
  const proc = fork(fileURLToPath(import.meta.url), ["--child", JSON.stringify(c)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let markReady: () => void = () => {};
  let nextId = 0;
  const waiting = new Map<number, () => void>();
  const child: Child = {
    proc,
    min: 0,
    cpuMs: 0,
    url: "",
    ready: new Promise<void>((r) => (markReady = r)),
    inject(buildId, count, kind, lines = 1) {
      const id = nextId++;
      return new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        proc.send({ id, buildId, count, kind, lines } satisfies InjectRequest);
      });
    },
  };
  proc.on("message", (m: ChildReport) => {
    if (m.type === "ready") {
      child.url = m.url ?? "";
      markReady();
    } else if (m.type === "count") {
      child.min = m.min;
      child.cpuMs = m.cpuMs;
    } else if (m.type === "injected") {
      child.cpuMs = m.cpuMs;
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    } else throw new Error(`child failed: ${m.message}`);
  });
  return child;
}

/** CPU time this process used while `fn` ran, and the wall time. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const cpu = process.cpuUsage(cpu0);
  return { result, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 };
}

async function until(pred: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  process.env.NIX_CONFIG = nixConfigText();
  const dir = await mkdtemp(join(tmpdir(), "bench-api-"));
  const principals = [
    { authid: "acme-admin", role: "tenant", tenant: "acme", ticket: "bench-acme" },
    { authid: "operator", role: "operator", ticket: "bench-operator" },
  ];
  await writeFile(join(dir, "principals.json"), JSON.stringify(principals));
  const scheduler = startChild({ cmd: "scheduler" });
  await scheduler.ready;
  const service = await startService(
    parseServiceConfig(
      ["--data-dir", join(dir, "data"), "--principals", join(dir, "principals.json"), "--deployment-types", typesPath, "--listen", "127.0.0.1:0", "--rio-url", scheduler.url, "--log-level", "error"],
      {},
    ),
  );
  const children: Child[] = [scheduler];
  (autobahn.log as unknown as { warn: () => void }).warn = () => {};
  const session = await new Promise<autobahn.Session>((resolve, reject) => {
    const c = new autobahn.Connection({ url: service.url, realm: "fediversity", authmethods: ["ticket"], authid: "acme-admin", onchallenge: () => "bench-acme", max_retries: 0 });
    c.onopen = resolve;
    c.onclose = (reason) => {
      reject(new Error(reason));
      return true;
    };
    c.open();
  });
  try {
    // A sync whose build sleeps: a live build to inject into.
    const submitted = (await session.call("fediversity.deployment.submit", [], {
      deployment: "bench",
      deployment_type: "e2e",
      configuration: { salt: `bench-${Date.now()}`, build_sleep_secs: 120, lines: 1 },
    })) as { sync: { sync: string } };
    const sync = submitted.sync.sync;
    let buildId = "";
    for (let i = 0; i < 600 && buildId === ""; i++) {
      const view = (await session.call("fediversity.deployment.get", [], { deployment: "bench" })) as { current: { build: { build_id: string } | null } | null };
      buildId = view.current?.build?.build_id ?? "";
      if (!buildId) await new Promise((r) => setTimeout(r, 100));
    }
    if (!buildId) throw new Error("the bench build never started");
    await new Promise((r) => setTimeout(r, 500)); // let the real build's first events settle
    console.log(`service ${service.url}, scheduler ${scheduler.url} (child process), build ${buildId}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} cores`);

    // BENCH_ONLY=1|2|3 runs one measurement (for profiling).
    const only = process.env.BENCH_ONLY;
    // 1. Latency at 1,000 events/s.
    if (!only || only === "1") {
      const arrivals: number[] = [];
      await session.subscribe("fediversity.events.acme.bench", (args) => {
        const e = (args as { type: string; sync: string }[] | undefined)?.[0];
        if (e?.type === "build.progress" && e.sync === sync) arrivals.push(performance.now());
      });
      const warmup = 200;
      const total = 5_000 + warmup;
      const sent: number[] = [];
      // How late this process's event loop runs (CPU starvation on a shared machine shows here).
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      while (sent.length < total) {
        const due = Math.min(total, Math.floor(performance.now() - start) + 1); // one event per ms
        while (sent.length < due) {
          sent.push(performance.now());
          await scheduler.inject(buildId, 1, "progress");
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const elapsed = (performance.now() - start) / 1000;
      await until(() => arrivals.length >= total, "latency events", 60_000);
      await new Promise((r) => setTimeout(r, 200));
      // Arrivals are matched to injections by order: any other build.progress event would skew that.
      if (arrivals.length !== total) throw new Error(`expected ${total} progress events, got ${arrivals.length}`);
      loopDelay.disable();
      const cpu = process.cpuUsage(cpu0);
      const busy = (cpu.user + cpu.system) / 1000 / (performance.now() - start);
      const lat = sent.slice(warmup).map((t, i) => (arrivals[i + warmup] ?? NaN) - t).sort((a, b) => a - b);
      console.log(
        `1. latency injection (scheduler knob, over IPC) → WAMP subscriber at ${fmt((total - warmup) / (elapsed - warmup / 1000))} events/s (${fmt(lat.length)} events): ` +
          `p50 ${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms, max ${percentile(lat, 100).toFixed(2)} ms (target p99 < 10 ms); ` +
          `meanwhile this process used ${(busy * 100).toFixed(0)} % of a core and its event loop ran late by p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
      );
    }

    // 2. Events/s to 10 subscribers.
    if (!only || only === "2") {
      const subs = startChild({ cmd: "subscribers", url: service.url, authid: "acme-admin", ticket: "bench-acme", topic: "fediversity.events.acme.bench", sync, connections: 10 });
      children.push(subs);
      await subs.ready;
      const n = 60_000;
      const base = subs.min;
      await scheduler.inject(buildId, 0, "progress"); // a fresh CPU reading from the scheduler child
      const cpuBefore = { subs: subs.cpuMs, scheduler: scheduler.cpuMs };
      const m = await measured(async () => {
        const injecting = (async () => {
          for (let i = 0; i < n; i += 1_000) await scheduler.inject(buildId, 1_000, "progress");
        })();
        await until(() => subs.min >= base + n, "10 subscribers", 180_000);
        await injecting;
      });
      const secs = m.wallMs / 1000;
      const usPerEvent = (m.cpuMs * 1000) / n;
      console.log(
        `2. ${fmt(n)} events to each of 10 subscribers in ${secs.toFixed(2)} s: ${fmt(n / secs)} events/s (${fmt((10 * n) / secs)} deliveries/s); ` +
          `service CPU ${usPerEvent.toFixed(1)} µs/event → ${fmt(1e6 / usPerEvent)} events/s per core (target ≥ 30,000 events/s); ` +
          `the same ${cpus().length} cores also ran the subscribers' process (${(((subs.cpuMs - cpuBefore.subs) * 1000) / n).toFixed(1)} µs/event) ` +
          `and the scheduler's (${(((scheduler.cpuMs - cpuBefore.scheduler) * 1000) / n).toFixed(1)} µs/event)`,
      );
      subs.proc.kill();
    }

    // 3. Log lines/s to a build.logs follower.
    if (!only || only === "3") {
      const page = (await session.call("fediversity.build.logs", [], { deployment: "bench", sync, since_line: 0, limit: 10_000 })) as { next_line: number };
      let since = page.next_line;
      for (;;) {
        const p = (await session.call("fediversity.build.logs", [], { deployment: "bench", sync, since_line: since, limit: 10_000 })) as { next_line: number; lines: unknown[] };
        if (p.lines.length === 0) break;
        since = p.next_line;
      }
      const follower = startChild({ cmd: "follower", url: service.url, authid: "acme-admin", ticket: "bench-acme", deployment: "bench", sync, sinceLine: since });
      children.push(follower);
      await follower.ready;
      await new Promise((r) => setTimeout(r, 200));
      const linesPerEvent = Number(process.env.BENCH_LINES_PER_EVENT ?? 64);
      const n = 2_048 * 100;
      await scheduler.inject(buildId, 0, "log");
      const cpuBefore = { follower: follower.cpuMs, scheduler: scheduler.cpuMs };
      const m = await measured(async () => {
        const injecting = (async () => {
          // 64 lines per BuildEvent, the batch size rio's executors use (BENCH_LINES_PER_EVENT to vary).
          for (let i = 0; i < n; i += 2_048) await scheduler.inject(buildId, 2_048 / linesPerEvent, "log", linesPerEvent);
        })();
        await until(() => follower.min >= n, "follower lines", 180_000);
        await injecting;
      });
      const secs = m.wallMs / 1000;
      const usPerLine = (m.cpuMs * 1000) / n;
      console.log(
        `3. ${fmt(n)} log lines (${linesPerEvent} per BuildEvent) to a build.logs follower in ${secs.toFixed(2)} s: ${fmt(n / secs)} lines/s; ` +
          `service CPU ${usPerLine.toFixed(1)} µs/line → ${fmt(1e6 / usPerLine)} lines/s per core (target ≥ 100,000 lines/s); ` +
          `the follower's process used ${(((follower.cpuMs - cpuBefore.follower) * 1000) / n).toFixed(1)} µs/line, the scheduler's ${(((scheduler.cpuMs - cpuBefore.scheduler) * 1000) / n).toFixed(1)} µs/line`,
      );
      follower.proc.kill();
    }

  } finally {
    // Cancel the held build and let it end, so no nix-store is left sleeping behind us.
    await session.call("fediversity.deployment.cancel", [], { deployment: "bench" }).catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      const view = (await session.call("fediversity.deployment.get", [], { deployment: "bench" }).catch(() => null)) as { current: unknown } | null;
      if (!view?.current) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const c of children) if (c !== scheduler) c.proc.kill();
    await service.stop();
    // The scheduler child closes itself (stopping its builds) when the IPC channel goes.
    const schedulerExited = new Promise((r) => scheduler.proc.once("exit", r));
    scheduler.proc.disconnect();
    await Promise.race([schedulerExited, new Promise((r) => setTimeout(r, 10_000))]);
    scheduler.proc.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  // A clean exit on kill, so `node --cpu-prof` writes the child's profile too.
  process.once("SIGTERM", () => process.exit(0));
  runChild(JSON.parse(process.argv[3] ?? "{}") as ChildCommand).catch((err: unknown) => {
    report({ type: "error", message: String(err) });
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
