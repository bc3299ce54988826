/**
 * Fault injection against real processes (test/runner/ covers kill -9 at random points and the
 * scheduler's in-process fault knobs; these are the faults it does not):
 * - SIGKILL of the service while one sync is evaluating, one building and one deploying, then a
 *   restart on the same data dir: each completes, exactly once, with a gapless event log;
 * - the standalone local scheduler killed and restarted (service with --rio-url);
 * - the router killed and restarted under the service in component mode;
 * - the SQLite disk full, and the database read-only: clear `unavailable`, no corruption, recovery after.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync, writeSync, closeSync } from "node:fs";
import { mkdtemp, readFile, rm, rmdir, unlink, writeFile } from "node:fs/promises";
import { freePort } from "../helpers/processes.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import Database from "better-sqlite3";
import type autobahn from "autobahn";
import { afterAll, expect, it } from "vitest";
import {
  boundedCall,
  healthz,
  killProcessesMarked,
  mustCall,
  openSession,
  report,
  repoRoot,
  salt,
  sleep,
  startHostileService,
  waitTerminal,
  type Principal,
} from "./support.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const survived: string[] = [];


interface Proc {
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** Starts `args` under node+tsx; resolves once stdout matches `ready`. */
async function startProc(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000): Promise<Proc> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((r) => child.once("exit", r));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} not ready: ${out.slice(-2000)}`)), timeoutMs);
    const on = (b: Buffer) => {
      out += b.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited: ${out.slice(-2000)}`));
    });
  });
  return { child, exited };
}

async function kill9(p: Proc): Promise<void> {
  p.child.kill("SIGKILL");
  await p.exited;
}

type Session = autobahn.Session & { connection: autobahn.Connection };

async function eventsOf(s: Session, tenant: string, deployment: string): Promise<{ seq: number; sync: string | null; type: string }[]> {
  const r = await mustCall<{ events: { seq: number; sync: string | null; type: string }[] }>(s, "deployment.events", { tenant, deployment, limit: 1000 });
  return r.events;
}

/** Gapless from 1, and exactly one sync.finished per sync. */
function logProblems(events: { seq: number; sync: string | null; type: string }[]): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`seq ${e.seq} at position ${i + 1}`);
  });
  const finished = new Map<string, number>();
  for (const e of events) if (e.type === "sync.finished" && e.sync) finished.set(e.sync, (finished.get(e.sync) ?? 0) + 1);
  for (const [sync, n] of finished) if (n !== 1) problems.push(`sync ${sync} finished ${n} times`);
  return problems;
}

async function stateOf(s: Session, tenant: string, deployment: string): Promise<string | null> {
  const r = await boundedCall(s, "fediversity.deployment.get", { tenant, deployment }, 10_000);
  return r.kind === "ok" ? ((r.value as { current: { state: string } | null }).current?.state ?? null) : null;
}

it("survives SIGKILL while syncs are evaluating, building and deploying", { timeout: 170_000 }, async () => {
  const svc = await startHostileService({ env: { FEDIVERSITY_DEPLOY_TIMEOUT_SECS: "60" } });
  cleanups.push(() => svc.dispose());
  const panelP = svc.principals.find((p) => p.role === "panel")!;
  let panel = await openSession(svc.url, panelP);
  const plan = [
    { deployment: "k_deploy", phase: "deploying", configuration: { salt: salt(), activate_sleep_secs: 12 } },
    { deployment: "k_build", phase: "building", configuration: { salt: salt(), build_sleep_secs: 12 } },
    { deployment: "k_eval", phase: "evaluating", configuration: { salt: salt(), eval_sleep_secs: 12 } },
  ];
  const syncs: Record<string, string> = {};
  for (const p of plan) {
    const r = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: p.deployment, deployment_type: "hostile", configuration: p.configuration });
    syncs[p.deployment] = r.sync.sync;
  }
  // Wait until all three are in their phase at once.
  const deadline = Date.now() + 60_000;
  let states: (string | null)[] = [];
  while (Date.now() < deadline) {
    states = await Promise.all(plan.map((p) => stateOf(panel, "acme", p.deployment)));
    if (states.every((s, i) => s === plan[i]!.phase)) break;
    await sleep(200);
  }
  expect(states).toEqual(plan.map((p) => p.phase));
  await sleep(1000);
  panel.connection.close();
  await svc.kill9();
  expect(svc.alive()).toBe(false);
  await svc.restart();
  panel = await openSession(svc.url, panelP);
  for (const p of plan) {
    const end = await waitTerminal(panel, "acme", p.deployment, syncs[p.deployment]!, 120_000);
    expect({ deployment: p.deployment, state: end.state }).toEqual({ deployment: p.deployment, state: "succeeded" });
    expect(logProblems(await eventsOf(panel, "acme", p.deployment))).toEqual([]);
    const active = await readFile(join(svc.dataDir, "targets", "acme", p.deployment, "active"), "utf8");
    expect(active.trim()).toBe(syncs[p.deployment]);
    survived.push(`sigkill while ${p.phase}`);
  }
  panel.connection.close();
  await svc.dispose();
});

it("rides out the standalone scheduler being killed and restarted", { timeout: 170_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "hostile-sched-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const marker = `HOSTILE_SCHED=${randomBytes(6).toString("hex")}`;
  const [mk, mv] = marker.split("=") as [string, string];
  const schedArgs = [join(repoRoot, "src/main.ts"), "scheduler", "--listen", `127.0.0.1:${port}`, "--state", join(dir, "sched.sqlite")];
  const env = { ...process.env, [mk]: mv };
  let sched = await startProc(schedArgs, env, /listening|started|127\.0\.0\.1:\d+/i);
  cleanups.push(async () => {
    sched.child.kill("SIGKILL");
    await killProcessesMarked(marker);
  });
  const svc = await startHostileService({ args: ["--rio-url", `http://127.0.0.1:${port}`] });
  cleanups.push(() => svc.dispose());
  const panel = await openSession(svc.url, svc.principals.find((p) => p.role === "panel")!);
  const s1 = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: "sch1", deployment_type: "hostile", configuration: { salt: salt(), build_sleep_secs: 6 } });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await stateOf(panel, "acme", "sch1")) !== "building") await sleep(200);
  await sleep(1500);
  await kill9(sched);
  await killProcessesMarked(marker);
  // Submitted while the scheduler is down.
  const s2 = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "beta", deployment: "sch2", deployment_type: "hostile", configuration: { salt: salt() } });
  await sleep(3000);
  expect(svc.alive()).toBe(true);
  sched = await startProc(schedArgs, env, /listening|started|127\.0\.0\.1:\d+/i);
  const e1 = await waitTerminal(panel, "acme", "sch1", s1.sync.sync, 120_000);
  const e2 = await waitTerminal(panel, "beta", "sch2", s2.sync.sync, 120_000);
  process.stdout.write(`[hostile] scheduler restart: s1 ${e1.state} ${e1.error?.code ?? ""} ${e1.error?.message ?? ""}; s2 ${e2.state} ${e2.error?.code ?? ""} ${e2.error?.message ?? ""}\n`);
  // The running build is followed again (or, if the scheduler lost it, ends clearly as scheduler_lost).
  expect(e1.state === "succeeded" || e1.error?.code === "scheduler_lost").toBe(true);
  expect(e2.state).toBe("succeeded");
  expect(logProblems(await eventsOf(panel, "acme", "sch1"))).toEqual([]);
  survived.push("scheduler killed and restarted");
  panel.connection.close();
  await svc.dispose();
});

it("recovers when the router under the service (component mode) is killed and restarted", { timeout: 150_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "hostile-router-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const t = () => randomBytes(12).toString("hex");
  const principals: Principal[] = [
    { authid: "svc", role: "trusted", ticket: t() },
    { authid: "panel", role: "panel", ticket: t() },
    { authid: "acme-admin", role: "tenant", tenant: "acme", ticket: t() },
  ];
  const principalsPath = join(dir, "principals.json");
  await writeFile(principalsPath, JSON.stringify(principals));
  const routerEnv = { ...process.env, ROUTER_PORT: String(port), ROUTER_PRINCIPALS: principalsPath };
  const routerArgs = [join(repoRoot, "test/hostile/router-process.ts")];
  let router = await startProc(routerArgs, routerEnv, /router listening/);
  cleanups.push(async () => void router.child.kill("SIGKILL"));
  const url = `ws://127.0.0.1:${port}/ws`;
  const svc = await startHostileService({ args: ["--router-url", url, "--router-authid", "svc", "--router-ticket", principals[0]!.ticket, "--principals", principalsPath] });
  cleanups.push(() => svc.dispose());
  let panel = await openSession(url, principals[1]!);
  const s = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: "rt", deployment_type: "hostile", configuration: { salt: salt(), build_sleep_secs: 4 } });
  await sleep(2000);
  await kill9(router);
  await sleep(1000);
  router = await startProc(routerArgs, routerEnv, /router listening/);
  // The service registers again by itself; a client reconnects and replays.
  const deadline = Date.now() + 30_000;
  let back = false;
  while (Date.now() < deadline && !back) {
    try {
      panel = await openSession(url, principals[1]!, { timeoutMs: 5000 });
      back = (await boundedCall(panel, "fediversity.schema.get", {}, 5000)).kind === "ok";
      if (!back) panel.connection.close();
    } catch {
      // router not ready yet
    }
    if (!back) await sleep(500);
  }
  expect(back).toBe(true);
  const end = await waitTerminal(panel, "acme", "rt", s.sync.sync, 90_000);
  expect(end.state).toBe("succeeded");
  expect(logProblems(await eventsOf(panel, "acme", "rt"))).toEqual([]);
  // Tenant isolation holds on the external router too.
  const acme = await openSession(url, principals[2]!);
  const foreign = await boundedCall(acme, "fediversity.deployment.get", { tenant: "beta", deployment: "rt" });
  expect(foreign.kind === "error" && foreign.uri).toBe("fediversity.error.not_authorized");
  acme.connection.close();
  panel.connection.close();
  survived.push("router killed and restarted (component mode)");
  await svc.dispose();
  router.child.kill("SIGTERM");
});

it("answers unavailable on a full disk, loses nothing, and recovers", { timeout: 150_000 }, async () => {
  const mnt = await mkdtemp(join(tmpdir(), "hostile-disk-"));
  await execa("mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt]);
  cleanups.push(async () => {
    await execa("umount", ["-l", mnt]).catch(() => undefined);
    await rmdir(mnt).catch(() => undefined);
  });
  const svc = await startHostileService({ dir: mnt });
  cleanups.push(() => svc.dispose());
  const panel = await openSession(svc.url, svc.principals.find((p) => p.role === "panel")!);
  const first = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: "disk", deployment_type: "hostile", configuration: { salt: salt() } });
  expect((await waitTerminal(panel, "acme", "disk", first.sync.sync)).state).toBe("succeeded");
  const submit = () => boundedCall(panel, "fediversity.deployment.submit", { tenant: "acme", deployment: "disk", deployment_type: "hostile", configuration: { salt: salt() } }, 15_000);
  const outcomes: Record<string, string> = {};

  // 1. Disk full.
  const filler = join(mnt, "filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 4096));
  } catch {
    // every last page
  }
  closeSync(fd);
  let full = await submit();
  // SQLite may still fit one small transaction in the WAL's free pages: a few more tries fill it.
  for (let i = 0; i < 20 && full.kind === "ok"; i++) full = await submit();
  outcomes.diskFull = full.kind === "error" ? full.uri : full.kind;
  const readWhileFull = await boundedCall(panel, "fediversity.deployment.get", { tenant: "acme", deployment: "disk" });
  outcomes.readWhileFull = readWhileFull.kind;
  expect(svc.alive()).toBe(true);
  await unlink(filler);

  // 3. Recovery: a new sync runs to the end.
  let again = await submit();
  for (let i = 0; i < 20 && again.kind !== "ok"; i++) {
    await sleep(500);
    again = await submit();
  }
  outcomes.afterRecovery = again.kind;
  expect(again.kind).toBe("ok");
  const sync = (again as { value: { sync: { sync: string } } }).value.sync.sync;
  const end = await waitTerminal(panel, "acme", "disk", sync, 90_000);
  outcomes.recoveredSync = end.state;
  const problems = logProblems(await eventsOf(panel, "acme", "disk"));
  expect((await healthz(svc.httpUrl))?.status).toBe("ok");
  panel.connection.close();
  await svc.stop();
  const db = new Database(join(svc.dataDir, "fediversity.sqlite"), { readonly: true });
  const integrity = (db.pragma("integrity_check") as { integrity_check: string }[])[0]?.integrity_check;
  db.close();
  process.stdout.write(`[hostile] disk faults: ${JSON.stringify(outcomes)} integrity ${integrity}\n`);
  report("disk-faults", { ...outcomes, integrity, eventLogProblems: problems.length });
  expect(outcomes.diskFull).toBe("fediversity.error.unavailable");
  expect(outcomes.readWhileFull).toBe("ok");
  expect(end.state).toBe("succeeded");
  expect(problems).toEqual([]);
  expect(integrity).toBe("ok");
  survived.push("disk full");
  await svc.dispose();
  await execa("umount", [mnt]).catch(() => execa("umount", ["-l", mnt]));
  await rmdir(mnt);
  expect(existsSync(mnt)).toBe(false);
});

it("answers unavailable while the database files are read-only (immutable), and recovers", { timeout: 120_000 }, async () => {
  // A mount cannot go read-only under open files; an immutable flag (ext4 refuses writes through
  // already-open descriptors too) has the same effect on SQLite: every write fails.
  const svc = await startHostileService();
  const files = ["fediversity.sqlite", "fediversity.sqlite-wal"].map((f) => join(svc.dataDir, f)).filter((f) => existsSync(f));
  const unfreeze = () => Promise.all(files.map((f) => execa("chattr", ["-i", f]).catch(() => undefined)));
  cleanups.push(async () => {
    await unfreeze();
    await svc.dispose();
  });
  const panel = await openSession(svc.url, svc.principals.find((p) => p.role === "panel")!);
  const submit = () => boundedCall(panel, "fediversity.deployment.submit", { tenant: "acme", deployment: "ro", deployment_type: "hostile", configuration: { salt: salt() } }, 15_000);
  const first = await submit();
  expect(first.kind).toBe("ok");
  const firstSync = (first as { value: { sync: { sync: string } } }).value.sync.sync;
  expect((await waitTerminal(panel, "acme", "ro", firstSync)).state).toBe("succeeded");
  for (const f of files) await execa("chattr", ["+i", f]);
  const outcomes: Record<string, string> = {};
  const ro = await submit();
  outcomes.readOnly = ro.kind === "error" ? `${ro.uri}: ${String(ro.args[0])}` : ro.kind;
  outcomes.readWhileReadOnly = (await boundedCall(panel, "fediversity.deployment.get", { tenant: "acme", deployment: "ro" })).kind;
  expect(svc.alive()).toBe(true);
  await unfreeze();
  let again = await submit();
  for (let i = 0; i < 20 && again.kind !== "ok"; i++) {
    await sleep(500);
    again = await submit();
  }
  outcomes.afterRecovery = again.kind;
  expect(again.kind).toBe("ok");
  const end = await waitTerminal(panel, "acme", "ro", (again as { value: { sync: { sync: string } } }).value.sync.sync, 90_000);
  outcomes.recoveredSync = end.state;
  const problems = logProblems(await eventsOf(panel, "acme", "ro"));
  panel.connection.close();
  await svc.stop();
  const db = new Database(join(svc.dataDir, "fediversity.sqlite"), { readonly: true });
  const integrity = (db.pragma("integrity_check") as { integrity_check: string }[])[0]?.integrity_check;
  db.close();
  process.stdout.write(`[hostile] read-only database: ${JSON.stringify(outcomes)} integrity ${integrity}\n`);
  report("readonly-fault", { ...outcomes, integrity, eventLogProblems: problems.length });
  expect(outcomes.readOnly).toMatch(/^fediversity\.error\.unavailable/);
  expect(outcomes.readWhileReadOnly).toBe("ok");
  expect(end.state).toBe("succeeded");
  expect(problems).toEqual([]);
  expect(integrity).toBe("ok");
  survived.push("database read-only");
  await svc.dispose();
});

it("reports the faults survived", () => {
  report("faults", { survived: survived.length, list: survived });
  expect(survived.length).toBeGreaterThan(0);
});
