/**
 * sync.get and deployment.history over WAMP against the real service (real Nix builds, the local
 * scheduler, the local deployer): after a burst of replace submits the superseded syncs can still
 * be looked up; cancelled, timed-out, failed and torn-down syncs too; history is newest first, with
 * filters and cursor pages that stay stable while syncs are submitted; a tenant sees only its own;
 * the CLI's `history` and `sync` commands.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/index.js";
import type { HistoryResult, SyncView } from "../../src/core/index.js";
import { parseServiceConfig } from "../../src/config.js";
import { startService, type RunningService } from "../../src/main.js";
import { connectWamp, freshSalt, makeE2eDir, serviceArgs, waitForSync, type E2eDir, type Principal, type Wamp } from "../helpers/e2e-service.js";

let dir: E2eDir;
let service: RunningService;
let acme: Wamp;
let beta: Wamp;
let panel: Wamp;

beforeAll(async () => {
  dir = await makeE2eDir();
  // A short build timeout so one sync can time out; the fixture's ordinary builds take a second or two.
  service = await startService(parseServiceConfig(serviceArgs(dir), { FEDIVERSITY_BUILD_TIMEOUT_SECS: "12" }));
  [acme, beta, panel] = await Promise.all([connectWamp(service.url, dir.principals.acme), connectWamp(service.url, dir.principals.beta), connectWamp(service.url, dir.principals.panel)]);
}, 90_000);

afterAll(async () => {
  await Promise.all([acme?.close(), beta?.close(), panel?.close()]);
  await service?.stop();
  await dir?.remove();
});

const submit = (w: Wamp, deployment: string, configuration: Record<string, unknown>, more: Record<string, unknown> = {}) =>
  w.call<{ sync: SyncView; superseded: string[] }>("fediversity.deployment.submit", { deployment, deployment_type: "e2e", configuration: { salt: freshSalt(), ...configuration }, ...more });

const history = (w: Wamp, kwargs: Record<string, unknown>) => w.call<HistoryResult>("fediversity.deployment.history", kwargs);

describe("sync.get and deployment.history", () => {
  it("keep every sync visible, whatever it ended as, newest first, with filters", { timeout: 240_000 }, async () => {
    // A burst of three replace submits: the first two are superseded by the next.
    const a = await submit(acme, "hist", { build_sleep_secs: 2 });
    const b = await submit(acme, "hist", { build_sleep_secs: 2 });
    const c = await submit(acme, "hist", {});
    expect(b.superseded).toEqual([a.sync.sync]);
    expect(c.superseded).toEqual([b.sync.sync]);
    expect(await waitForSync(acme, "hist", c.sync.sync)).toBe("succeeded");
    // deployment.get no longer shows them…
    const dep = await acme.call<{ current: SyncView | null; queue: SyncView[]; last: SyncView | null }>("fediversity.deployment.get", { deployment: "hist" });
    expect([dep.current?.sync, ...dep.queue.map((q) => q.sync), dep.last?.sync]).not.toContain(a.sync.sync);
    // …sync.get does, with what replaced them.
    expect(await acme.call<SyncView>("fediversity.sync.get", { sync: a.sync.sync })).toMatchObject({ state: "superseded", superseded_by: b.sync.sync, position: null, deployment: "hist", tenant: "acme" });
    expect(await acme.call<SyncView>("fediversity.sync.get", { sync: b.sync.sync })).toMatchObject({ state: "superseded", superseded_by: c.sync.sync });

    // Cancelled while building.
    const cancelled = await submit(acme, "hist", { build_sleep_secs: 60 });
    await waitForSync(acme, "hist", cancelled.sync.sync, ["building"]);
    await acme.call("fediversity.deployment.cancel", { deployment: "hist" });
    expect(await waitForSync(acme, "hist", cancelled.sync.sync)).toBe("cancelled");
    // Timed out (the build outlives the 12 s build timeout).
    const slow = await submit(acme, "hist", { build_sleep_secs: 100 });
    expect(await waitForSync(acme, "hist", slow.sync.sync, undefined, { timeoutMs: 90_000 })).toBe("timed_out");
    // Failed.
    const broken = await submit(acme, "hist", { fail_build: true });
    expect(await waitForSync(acme, "hist", broken.sync.sync)).toBe("failed");
    // Torn down.
    const teardown = await acme.call<{ sync: SyncView }>("fediversity.deployment.delete", { deployment: "hist" });
    expect(await waitForSync(acme, "hist", teardown.sync.sync)).toBe("succeeded");

    const views = await Promise.all([a, b, c, cancelled, slow, broken, teardown].map((s) => acme.call<SyncView>("fediversity.sync.get", { sync: s.sync.sync })));
    expect(views.map((v) => [v.kind, v.state])).toEqual([
      ["apply", "superseded"],
      ["apply", "superseded"],
      ["apply", "succeeded"],
      ["apply", "cancelled"],
      ["apply", "timed_out"],
      ["apply", "failed"],
      ["teardown", "succeeded"],
    ]);
    expect(views[4]?.error?.code).toBe("timeout");
    expect(views[5]?.error?.code).toBe("build_failed");

    const all = await history(acme, { deployment: "hist" });
    expect(all.syncs).toEqual([...views].reverse());
    expect(all.next_cursor).toBeNull();
    expect((await history(acme, { deployment: "hist", state: "superseded" })).syncs.map((s) => s.sync)).toEqual([b.sync.sync, a.sync.sync]);
    expect((await history(acme, { deployment: "hist", kind: "teardown" })).syncs.map((s) => s.sync)).toEqual([teardown.sync.sync]);
    expect((await history(acme, { deployment: "hist", kind: "apply", state: "succeeded" })).syncs.map((s) => s.sync)).toEqual([c.sync.sync]);
    // The panel acting for the tenant sees the same.
    expect(await history(panel, { deployment: "hist", tenant: "acme" })).toEqual(all);
  });

  it("pages stay stable while syncs are submitted between pages", { timeout: 120_000 }, async () => {
    const first: string[] = [];
    for (let i = 0; i < 9; i++) first.push((await submit(acme, "pages", { build_sleep_secs: 30 }, { mode: "enqueue" })).sync.sync);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: HistoryResult = await history(acme, { deployment: "pages", limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.syncs.map((s) => s.sync));
      cursor = page.next_cursor;
      pages += 1;
      await submit(acme, "pages", {}, { mode: "enqueue" });
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...first].reverse());
    await acme.call("fediversity.deployment.cancel", { deployment: "pages" });
  });

  it("answers another tenant's sync exactly like an unknown one, and refuses to act for another tenant", async () => {
    const mine = await submit(acme, "iso_hist", { build_sleep_secs: 30 });
    const foreign = await beta.fail("fediversity.sync.get", { sync: mine.sync.sync });
    const unknown = await beta.fail("fediversity.sync.get", { sync: "01JZZZZZZZZZZZZZZZZZZZZZZZ" });
    expect(foreign.error).toBe("fediversity.error.not_found");
    expect(unknown.error).toBe("fediversity.error.not_found");
    expect(foreign.args[0]).toBe(`no sync ${mine.sync.sync}`);
    expect(String(foreign.args[0]).replace(mine.sync.sync, "X")).toBe(String(unknown.args[0]).replace("01JZZZZZZZZZZZZZZZZZZZZZZZ", "X"));
    expect((await beta.fail("fediversity.sync.get", { sync: mine.sync.sync, tenant: "acme" })).error).toBe("fediversity.error.not_authorized");
    expect((await beta.fail("fediversity.deployment.history", { deployment: "iso_hist" })).error).toBe("fediversity.error.not_found");
    expect((await beta.fail("fediversity.deployment.history", { deployment: "iso_hist", tenant: "acme" })).error).toBe("fediversity.error.not_authorized");
    expect((await panel.fail("fediversity.deployment.history", { deployment: "iso_hist" })).error).toBe("fediversity.error.invalid_argument");
    expect((await panel.call<SyncView>("fediversity.sync.get", { sync: mine.sync.sync, tenant: "acme" })).sync).toBe(mine.sync.sync);
    expect((await panel.fail("fediversity.sync.get", { sync: mine.sync.sync, tenant: "beta" })).error).toBe("fediversity.error.not_found");
    const bad = await acme.fail("fediversity.deployment.history", { deployment: "iso_hist", state: "exploded", cursor: "x".repeat(2000) });
    expect(bad.error).toBe("fediversity.error.invalid_argument");
    expect((bad.kwargs["details"] as { path: string }[]).map((d) => d.path).sort()).toEqual(["cursor", "state"]);
    expect((await acme.fail("fediversity.deployment.history", { deployment: "iso_hist", cursor: "bm90IGEgY3Vyc29y" })).error).toBe("fediversity.error.invalid_argument");
    await acme.call("fediversity.deployment.cancel", { deployment: "iso_hist" });
  });

  it("the CLI shows a deployment's history and one sync", { timeout: 60_000 }, async () => {
    const s = await submit(acme, "cli_hist", {});
    await waitForSync(acme, "cli_hist", s.sync.sync);
    const cli = (who: Principal) => {
      const io = {
        out: "",
        err: "",
        stdout: { write: (t: string) => (io.out += t) },
        stderr: { write: (t: string) => (io.err += t) },
        env: { FEDIVERSITY_URL: service.url, FEDIVERSITY_AUTHID: who.authid, FEDIVERSITY_TICKET: who.ticket },
        readFile: (path: string) => readFile(path, "utf8"),
      };
      return { io, run: (args: string[]) => runCli(args, io) };
    };
    const a = cli(dir.principals.acme);
    expect(await a.run(["history", "cli_hist"])).toBe(0);
    expect(a.io.out).toMatch(new RegExp(`^SYNC +KIND +STATE +SUBMITTED +FINISHED +NOTE\\n${s.sync.sync} +apply +succeeded `));
    a.io.out = "";
    expect(await a.run(["history", "cli_hist", "--json", "--state", "succeeded", "--limit", "1"])).toBe(0);
    expect((JSON.parse(a.io.out) as HistoryResult).syncs.map((x) => x.sync)).toEqual([s.sync.sync]);
    a.io.out = "";
    expect(await a.run(["sync", s.sync.sync])).toBe(0);
    expect(a.io.out).toContain(`acme/cli_hist: sync ${s.sync.sync} apply succeeded`);
    const b = cli(dir.principals.beta);
    expect(await b.run(["sync", s.sync.sync])).toBe(3);
    expect(b.io.err).toContain("not_found");
    expect(await b.run(["history", "cli_hist", "--kind", "rollback"])).toBe(2);
  });
});
