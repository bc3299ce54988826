/**
 * The README's quick start, run as written: `npm start` from the repository root, one real call
 * with the demo principals it writes, then Ctrl-C (SIGINT to the process group, as a terminal
 * sends it) and a clean exit.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectWamp, freePort, repoRoot, until, type Principal } from "../helpers/e2e-service.js";

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("README quick start", () => {
  it("`npm start` serves the API, answers a real call, and exits cleanly on Ctrl-C", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "quickstart-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // The README's defaults, except: a temp data dir instead of ./data (FEDIVERSITY_DATA_DIR), and,
    // only when 127.0.0.1:8080 is taken on this machine, another port (FEDIVERSITY_LISTEN).
    const env: NodeJS.ProcessEnv = { ...process.env, FEDIVERSITY_DATA_DIR: dataDir };
    let port = 8080;
    if (!(await portIsFree(8080))) {
      port = await freePort();
      env.FEDIVERSITY_LISTEN = `127.0.0.1:${port}`;
    }
    const child = spawn("npm", ["start"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pgid = child.pid ?? 0;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    // npm may exit before its script's processes do: they hold the pipes until they are done.
    const drained = Promise.all([
      new Promise<void>((resolve) => child.stdout?.once("close", () => resolve())),
      new Promise<void>((resolve) => child.stderr?.once("close", () => resolve())),
    ]);
    cleanups.push(async () => {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));

    await until(() => /"msg":"fediversity-deploy is running"/.test(stdout) || child.exitCode !== null, "npm start to be ready", 90_000);
    expect(child.exitCode, `${stdout}\n${stderr}`).toBeNull();
    expect(stdout).toContain(`ws://127.0.0.1:${port}/ws`);
    // First start: demo principals written and printed.
    const principalsPath = join(dataDir, "principals.json");
    expect(existsSync(principalsPath)).toBe(true);
    const principals = JSON.parse(await readFile(principalsPath, "utf8")) as Principal[];
    const acme = principals.find((p) => p.authid === "acme-admin");
    expect(acme).toMatchObject({ role: "tenant", tenant: "acme" });
    // Tickets are never printed: the printed command reads acme-admin's from the file.
    for (const p of principals) expect(stdout).not.toContain(p.ticket);
    const readTicket = /export FEDIVERSITY_TICKET=\$\((.*)\)\n/.exec(stdout)?.[1];
    expect(readTicket).toBeDefined();
    expect(execFileSync("bash", ["-c", readTicket ?? "false"], { cwd: repoRoot, encoding: "utf8" }).trim()).toBe(acme?.ticket);

    // One real call (a Nix evaluation of the example mastodon type), and the schemas.
    const w = await connectWamp(`ws://127.0.0.1:${port}/ws`, acme as Principal);
    try {
      const schemas = await w.call<{ deployment_types: Record<string, unknown> }>("fediversity.schema.get");
      expect(Object.keys(schemas.deployment_types).sort()).toEqual(["mastodon", "peertube", "pixelfed"]);
      const config = JSON.parse(await readFile(join(repoRoot, "examples/configs/mastodon.json"), "utf8")) as Record<string, unknown>;
      const plan = await w.call<{ derivations: number; nodes: { pname: string }[] }>("fediversity.deployment.plan", { deployment: "mastodon", configuration: config });
      expect(plan.derivations).toBeGreaterThan(3);
      expect(plan.nodes.map((n) => n.pname)).toContain("mastodon");
    } finally {
      await w.close();
    }

    process.kill(-pgid, "SIGINT");
    const timer = setTimeout(() => {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 20_000);
    const exit = await exited;
    await drained;
    clearTimeout(timer);
    // npm itself always ends with SIGINT (exit status 130 in a shell) when Ctrl-C reaches it, even
    // when its script exits 0; a failing script would make it exit 1 with "npm error ..." instead.
    expect(exit, stderr).toEqual({ code: null, signal: "SIGINT" });
    // The service itself stopped cleanly: its last log line, and SQLite closed (no WAL left).
    expect(stdout).toMatch(/"msg":"fediversity-deploy stopped"/);
    expect(existsSync(join(dataDir, "fediversity.sqlite-wal"))).toBe(false);
    expect(existsSync(join(dataDir, "scheduler.sqlite-wal"))).toBe(false);
    // Nothing of the group is left behind.
    await until(() => {
      try {
        process.kill(-pgid, 0);
        return false;
      } catch {
        return true;
      }
    }, "the process group to be gone", 10_000);
    expect(stderr).not.toMatch(/error|fediversity-deploy:|auto-reconnect/i);
  });
});
