/**
 * Test-only helpers of the hostile-input suite: the real service as a child process (so a crash
 * is visible as an exit, and SIGKILL is real) with the hostile deployment type, WAMP sessions with
 * bounded calls, a seeded PRNG, and the report file that bench/hostile-report.ts sums up.
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { killProcessesMarked, prng } from "../helpers/processes.js";
import autobahn from "autobahn";
import { materializeFixtureTypes } from "../helpers/fixture-types.js";

export { killProcessesMarked, prng };

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const fixtureDir = join(repoRoot, "test/hostile/fixtures");

(autobahn.log as unknown as { warn: () => void; debug: () => void }).warn = () => {};

export function salt(): string {
  return randomBytes(6).toString("hex");
}


/** FUZZ_SEED from the environment, or a fresh one; printed either way. */
export function fuzzSeed(what: string): number {
  const fromEnv = process.env.FUZZ_SEED;
  const seed = fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) >>> 0 : randomBytes(4).readUInt32LE(0);
  process.stdout.write(`[hostile] ${what}: FUZZ_SEED=${seed}\n`);
  return seed;
}

/** Figures for the report: one JSON line per test section. */
export const reportFile = process.env.HOSTILE_REPORT_FILE ?? join(tmpdir(), "fediversity-hostile-report.jsonl");

export function report(section: string, figures: Record<string, unknown>): void {
  mkdirSync(dirname(reportFile), { recursive: true });
  appendFileSync(reportFile, `${JSON.stringify({ section, at: new Date().toISOString(), ...figures })}\n`);
}

export interface Principal {
  readonly authid: string;
  readonly role: string;
  readonly tenant?: string;
  readonly ticket: string;
}

export interface HostileService {
  readonly dir: string;
  readonly dataDir: string;
  readonly url: string;
  readonly httpUrl: string;
  /** The unique marker the secret file holds (must never be seen outside the target). */
  readonly secret: string;
  readonly principals: Principal[];
  readonly child: ChildProcess;
  /** Every stdout/stderr byte of every process life so far. */
  output(): string;
  alive(): boolean;
  kill9(): Promise<void>;
  /** Starts the service again on the same data dir (after kill9 or stop). */
  restart(extraEnv?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
  /** stop + remove the temp dir + kill anything left with our marker. */
  dispose(): Promise<void>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  readonly args?: readonly string[];
  readonly dir?: string;
}

/** Writes the hostile deployment-types file (absolute entry, secret file with a fresh marker). */
export function materializeHostileTypes(dir: string): Promise<{ typesPath: string; secret: string }> {
  return materializeFixtureTypes(fixtureDir, dir, { file: "hostile-token", value: `HOSTILE-SECRET-${randomBytes(12).toString("hex")}` });
}

interface Life {
  child: ChildProcess;
  exited: Promise<number | null>;
  url: string;
}

function spawnLife(args: readonly string[], env: NodeJS.ProcessEnv, sink: (s: string) => void, timeoutMs = 60_000): Promise<Life> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/main.ts"), "serve", ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, sig) => resolve(code ?? (sig ? -1 : null))));
  child.stderr?.on("data", (b: Buffer) => sink(b.toString()));
  return new Promise<Life>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`service did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.on("data", (b: Buffer) => {
      const text = b.toString();
      sink(text);
      buf += text;
      const m = /"wamp":"(ws:\/\/[^"]+)".*"msg":"fediversity-deploy is running"/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, exited, url: m[1] });
      }
      if (buf.length > 200_000) buf = buf.slice(-20_000);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before it was running`));
    });
  });
}

export async function startHostileService(options: StartOptions = {}): Promise<HostileService> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "hostile-")));
  const dataDir = join(dir, "data");
  const { typesPath, secret } = await materializeHostileTypes(dir);
  const marker = `HOSTILE_TEST_RUN=${randomBytes(8).toString("hex")}`;
  const args = ["--data-dir", dataDir, "--listen", "127.0.0.1:0", "--deployment-types", typesPath, "--log-level", "info", ...(options.args ?? [])];
  let output = "";
  const sink = (s: string): void => {
    output += s;
  };
  const baseEnv = (): NodeJS.ProcessEnv => {
    const [k, v] = marker.split("=") as [string, string];
    return { ...process.env, [k]: v, ...options.env };
  };
  let life = await spawnLife(args, baseEnv(), sink);
  const principalsFlag = (options.args ?? []).indexOf("--principals");
  const principalsPath = principalsFlag >= 0 ? (options.args?.[principalsFlag + 1] ?? "") : join(dataDir, "principals.json");
  let principals: Principal[];
  try {
    principals = JSON.parse(await readFile(principalsPath, "utf8")) as Principal[];
  } catch (err) {
    life.child.kill("SIGKILL");
    await killProcessesMarked(marker);
    throw err;
  }
  const svc: HostileService = {
    dir,
    dataDir,
    secret,
    principals,
    get url() {
      return life.url;
    },
    get httpUrl() {
      return life.url.replace(/^ws:/, "http:").replace(/\/ws$/, "");
    },
    get child() {
      return life.child;
    },
    output: () => output,
    alive: () => life.child.exitCode === null && life.child.signalCode === null,
    async kill9() {
      life.child.kill("SIGKILL");
      await life.exited;
      // What a supervisor does with the cgroup: builds/activations run in their own groups.
      await killProcessesMarked(marker);
    },
    async restart(extraEnv = {}) {
      life = await spawnLife(args, { ...baseEnv(), ...extraEnv }, sink);
    },
    async stop() {
      if (!svc.alive()) return;
      life.child.kill("SIGTERM");
      const t = setTimeout(() => life.child.kill("SIGKILL"), 10_000);
      await life.exited;
      clearTimeout(t);
    },
    async dispose() {
      await svc.stop().catch(() => undefined);
      await killProcessesMarked(marker);
      if (!options.dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
  return svc;
}


export type Serializer = "json" | "msgpack" | "cbor";

/** An open autobahn session, its connection, and a promise that settles (with the reason) when it closes. */
export type WampSession = autobahn.Session & { connection: autobahn.Connection; closed?: Promise<string> };

/** Opens an autobahn-js session (bounded by `timeoutMs`). */
export function openSession(url: string, principal: Principal | null, opts: { serializer?: Serializer; timeoutMs?: number } = {}): Promise<WampSession> {
  const serializers: unknown[] = [];
  const ab = autobahn as unknown as { serializer: Record<string, new () => unknown> };
  if (opts.serializer === "msgpack") serializers.push(new ab.serializer.MsgpackSerializer!());
  else if (opts.serializer === "cbor") serializers.push(new ab.serializer.CBORSerializer!());
  else serializers.push(new ab.serializer.JSONSerializer!());
  const connection = new autobahn.Connection({
    url,
    realm: "fediversity",
    max_retries: 0,
    serializers,
    on_user_error: () => undefined,
    on_internal_error: () => undefined,
    ...(principal ? { authmethods: ["ticket"], authid: principal.authid, onchallenge: () => principal.ticket } : { authmethods: ["anonymous"] }),
  } as unknown as autobahn.IConnectionOptions);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.close();
      reject(new Error("session did not open in time"));
    }, opts.timeoutMs ?? 15_000);
    connection.onopen = (session) => {
      clearTimeout(timer);
      let closedWith: (why: string) => void = () => undefined;
      const closed = new Promise<string>((r) => (closedWith = r));
      connection.onclose = (reason, details) => {
        closedWith(`${reason} ${JSON.stringify(details)}`);
        return true;
      };
      resolve(Object.assign(session, { connection, closed }));
    };
    connection.onclose = (reason, details) => {
      clearTimeout(timer);
      reject(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`));
      return true;
    };
    connection.open();
  });
}

export type CallOutcome =
  | { kind: "ok"; value: unknown }
  | { kind: "error"; uri: string; args: unknown[]; kwargs: Record<string, unknown> }
  | { kind: "timeout" }
  | { kind: "closed"; message: string };

/** One call with a hard bound: a hang is reported as `timeout`, never waited out. */
export async function boundedCall(session: autobahn.Session, uri: string, kwargs: unknown, timeoutMs = 10_000, args: unknown[] = []): Promise<CallOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CallOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
  });
  const closed = (session as WampSession).closed?.then((why): CallOutcome => ({ kind: "closed", message: why })) ?? new Promise<CallOutcome>(() => undefined);
  const call = (async (): Promise<CallOutcome> => {
    try {
      const r = await session.call(uri, args, kwargs as Record<string, unknown>);
      const res = r as unknown as { args?: unknown[] };
      return { kind: "ok", value: res && Array.isArray(res.args) ? res.args[0] : r };
    } catch (err) {
      const e = err as { error?: string; args?: unknown[]; kwargs?: Record<string, unknown>; message?: string };
      if (typeof e?.error === "string") return { kind: "error", uri: e.error, args: e.args ?? [], kwargs: e.kwargs ?? {} };
      return { kind: "closed", message: String(e?.message ?? err) };
    }
  })();
  try {
    return await Promise.race([call, timeout, closed]);
  } finally {
    clearTimeout(timer);
  }
}

/** The result dict of a call that must succeed. */
export async function mustCall<T>(session: autobahn.Session, uri: string, kwargs: Record<string, unknown>, timeoutMs = 15_000): Promise<T> {
  const r = await boundedCall(session, `fediversity.${uri}`, kwargs, timeoutMs);
  if (r.kind !== "ok") throw new Error(`${uri} ${JSON.stringify(kwargs).slice(0, 200)} → ${JSON.stringify(r).slice(0, 500)}`);
  return r.value as T;
}

export async function healthz(httpUrl: string, timeoutMs = 5000): Promise<{ status: string } | null> {
  try {
    const r = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? ((await r.json()) as { status: string }) : null;
  } catch {
    return null;
  }
}

export interface SyncViewLite {
  sync: string;
  state: string;
  error: { code: string; message: string; derivation: string | null } | null;
}

export const terminal = ["succeeded", "failed", "cancelled", "superseded", "timed_out"];

/** Polls deployment.get until the sync is terminal; returns its view (last or in history). */
export async function waitTerminal(session: autobahn.Session, tenant: string, deployment: string, sync: string, timeoutMs = 90_000): Promise<SyncViewLite> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const r = await boundedCall(session, "fediversity.deployment.get", { deployment, tenant }, 10_000);
    if (r.kind === "ok") {
      const v = r.value as { current: SyncViewLite | null; last: SyncViewLite | null; queue: SyncViewLite[] };
      const mine = [v.current, v.last, ...(v.queue ?? [])].find((s) => s?.sync === sync);
      if (mine) last = mine.state;
      if (mine && terminal.includes(mine.state)) return mine;
      if (!mine) {
        // Not current, queued or last: look it up through its events.
        const ev = await boundedCall(session, "fediversity.deployment.events", { deployment, tenant, limit: 1000 }, 10_000);
        if (ev.kind === "ok") {
          const fin = (ev.value as { events: { sync: string | null; type: string; data: Record<string, unknown> }[] }).events.find((e) => e.sync === sync && e.type === "sync.finished");
          if (fin) return { sync, state: String(fin.data.state), error: (fin.data.error ?? null) as SyncViewLite["error"] };
        }
      }
    }
    await sleep(250);
  }
  throw new Error(`sync ${sync} of ${tenant}/${deployment} not terminal within ${timeoutMs} ms (last ${last})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
