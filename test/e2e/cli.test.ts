/**
 * The project's CLI (`runCli`, a WAMP client like any other) against the real service: submit
 * --watch to the end (plain and TTY), plan, logs (--follow), list, status across tenants, cancel,
 * delete, rollback, schema, exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { runCli } from "../../src/cli/index.js";
import type { RunningService } from "../../src/main.js";
import {
  connectWamp,
  freePort,
  freshSalt,
  makeE2eDir,
  serviceArgs,
  sleep,
  spawnService,
  startInProcess,
  until,
  waitForSync,
  type E2eDir,
  type Principal,
} from "../helpers/e2e-service.js";

let dir: E2eDir;
let service: RunningService;

beforeAll(async () => {
  dir = await makeE2eDir();
  service = await startInProcess(dir);
});

afterAll(async () => {
  await service?.stop();
  await dir?.remove();
});

function cli(who: Principal, tty = false) {
  const io = {
    out: "",
    err: "",
    stdout: { write: (t: string) => (io.out += t), isTTY: tty },
    stderr: { write: (t: string) => (io.err += t) },
    env: { FEDIVERSITY_URL: service.url, FEDIVERSITY_AUTHID: who.authid, FEDIVERSITY_TICKET: who.ticket },
    readFile: (path: string) => readFile(path, "utf8"),
  };
  const run = async (args: string[]) => {
    io.out = "";
    io.err = "";
    return runCli(args, io);
  };
  return { io, run };
}

const cfg = (extra: Record<string, unknown> = {}) => JSON.stringify({ salt: freshSalt(), ...extra });

describe("the CLI against the real service", () => {
  it("submit --watch, plan, logs, list, status, rollback, delete as a tenant", async () => {
    const { io, run } = cli(dir.principals.acme);
    expect(await run(["schema", "--json"])).toBe(0);
    expect(Object.keys((JSON.parse(io.out) as { deployment_types: object }).deployment_types)).toContain("e2e");

    expect(await run(["plan", "web", "--type", "e2e", "--config-json", cfg(), "--json"])).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ derivations: 2, to_build: 2 });

    expect(await run(["submit", "web", "--type", "e2e", "--config-json", cfg({ lines: 4 }), "--watch"])).toBe(0);
    expect(io.err).toBe("");
    expect(io.out).toContain("acme/web");
    expect(io.out).toContain("succeeded");

    expect(await run(["submit", "web", "--config-json", cfg({ lines: 2 }), "--watch", "--json"])).toBe(0);
    const watched = io.out.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; type: string; sync: string | null });
    expect(watched.some((e) => e.type === "sync.finished")).toBe(true);
    const sync = watched.find((e) => e.type === "sync.finished")?.sync ?? "";
    const seqs = watched.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);

    expect(await run(["logs", "web", sync, "--json"])).toBe(0);
    expect(io.out).toContain("e2e line 1");
    expect(await run(["logs", "web", sync, "--follow"])).toBe(0); // terminal sync: returns at once
    expect(io.out).toContain("e2e activated");

    expect(await run(["list", "--json"])).toBe(0);
    const listed = JSON.parse(io.out) as { deployments: { deployment: string; tenant: string; generation: number }[] };
    expect(listed.deployments).toEqual([expect.objectContaining({ deployment: "web", tenant: "acme", generation: 2 })]);

    expect(await run(["status", "web", "--json"])).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ state: "active", generation: 2 });

    expect(await run(["rollback", "web", "--generation", "1", "--watch"])).toBe(0);
    expect(await run(["delete", "web", "--watch"])).toBe(0);
    expect(await run(["status", "web", "--json"])).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ state: "idle" });
  });

  it("redraws watch in place on a TTY", async () => {
    const { io, run } = cli(dir.principals.beta, true);
    expect(await run(["submit", "tty", "--type", "e2e", "--config-json", cfg(), "--watch"])).toBe(0);
    expect(io.out).toContain("\x1b[");
    expect(io.out).toContain("succeeded");
  });

  it("exit codes: failed sync 1, invalid argument 2, refused 3, cancel of a running sync", async () => {
    const acme = cli(dir.principals.acme);
    expect(await acme.run(["submit", "broken", "--type", "e2e", "--config-json", cfg({ fail_build: true }), "--watch"])).toBe(1);
    expect(await acme.run(["submit", "bad", "--type", "e2e", "--config-json", JSON.stringify({ salt: 1 })])).toBe(2);
    expect(acme.io.err).toContain("configuration.salt");
    expect(await acme.run(["status", "broken", "--tenant", "beta"])).toBe(3);
    expect(acme.io.err).toContain("not_authorized");
    expect(await acme.run(["status", "never"])).toBe(3);
    expect(acme.io.err).toContain("not_found");
    const panel = cli(dir.principals.panel);
    expect(await panel.run(["list", "--json"])).toBe(0);
    expect(new Set((JSON.parse(panel.io.out) as { deployments: { tenant: string }[] }).deployments.map((d) => d.tenant))).toEqual(new Set(["acme", "beta"]));

    // Cancel a sync that is building, as the panel for acme.
    expect(await acme.run(["submit", "slow", "--type", "e2e", "--config-json", cfg({ build_sleep_secs: 60 }), "--json"])).toBe(0);
    const slow = (JSON.parse(acme.io.out) as { sync: { sync: string } }).sync.sync;
    const w = await connectWamp(service.url, dir.principals.acme);
    try {
      await waitForSync(w, "slow", slow, ["building"]);
      expect(await panel.run(["cancel", "slow", "--tenant", "acme", "--json"])).toBe(0);
      expect(JSON.parse(panel.io.out)).toEqual({ cancelled: [slow], refused: [] });
      expect(await waitForSync(w, "slow", slow)).toBe("cancelled");
    } finally {
      await w.close();
    }
  });

  it("watch carries on across a restart of the service (router GOODBYE, then back on the same port)", async () => {
    const own = await makeE2eDir();
    const port = await freePort();
    const args = serviceArgs(own).map((a) => (a === "127.0.0.1:0" ? `127.0.0.1:${port}` : a));
    let svc = await spawnService(args);
    try {
      const io = {
        out: "",
        err: "",
        stdout: { write: (t: string) => (io.out += t), isTTY: false },
        stderr: { write: (t: string) => (io.err += t) },
        env: { FEDIVERSITY_URL: svc.url, FEDIVERSITY_AUTHID: own.principals.acme.authid, FEDIVERSITY_TICKET: own.principals.acme.ticket },
        readFile: (path: string) => readFile(path, "utf8"),
      };
      const watching = runCli(["submit", "slow", "--type", "e2e", "--config-json", cfg({ build_sleep_secs: 3 }), "--watch", "--json"], io);
      await until(() => io.out.includes('"build.started"'), "the build to start", 30_000);
      expect(await svc.stop()).toBe(0);
      await sleep(300);
      svc = await spawnService(args);
      expect(await watching).toBe(0);
      const events = io.out.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; type: string; data: Record<string, unknown> });
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i)); // no gap, no duplicate
      expect(events.at(-1)?.type === "deployment.state" || events.some((e) => e.type === "sync.finished" && e.data["state"] === "succeeded")).toBe(true);
    } finally {
      await svc.stop();
      await own.remove();
    }
  });
});
