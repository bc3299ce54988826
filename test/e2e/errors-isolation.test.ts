/**
 * Error URIs and tenant isolation against the real service: every procedure and topic refused
 * across tenants, operator-only queue.status, invalid_argument with detail paths, not_found,
 * resource_exhausted (configuration size, pending syncs), unavailable (scheduler refusing), and
 * internal without detail (a real SQLite failure).
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import type { RunningService } from "../../src/main.js";
import {
  allEvents,
  connectWamp,
  freshSalt,
  makeE2eDir,
  sleep,
  startInProcess,
  waitForSync,
  type ApiEvent,
  type DeploymentView,
  type E2eDir,
  type SyncView,
  type Wamp,
} from "../helpers/e2e-service.js";

let dir: E2eDir;
let scheduler: LocalScheduler;
let service: RunningService;
let acme: Wamp;
let beta: Wamp;
let panel: Wamp;
let operator: Wamp;
/** acme's finished sync on deployment `shared` (beta has no such deployment). */
let acmeSync: SyncView;

beforeAll(async () => {
  dir = await makeE2eDir();
  scheduler = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 2 });
  // fatal: the internal-error test's incident is logged at error level; keep the test output clean.
  service = await startInProcess(dir, ["--rio-url", scheduler.url, "--log-level", "fatal"]);
  const open = (w: "acme" | "beta" | "panel" | "operator") => connectWamp(service.url, dir.principals[w]);
  [acme, beta, panel, operator] = await Promise.all([open("acme"), open("beta"), open("panel"), open("operator")]);
  const r = await acme.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "shared", deployment_type: "e2e", configuration: { salt: freshSalt() } });
  acmeSync = r.sync;
  expect(await waitForSync(acme, "shared", r.sync.sync)).toBe("succeeded");
});

afterAll(async () => {
  await Promise.allSettled([acme, beta, panel, operator].filter(Boolean).map((c) => c.close()));
  await service?.stop();
  await scheduler?.close();
  await dir?.remove();
});

const err = (code: string) => expect.objectContaining({ error: `fediversity.error.${code}`, kwargs: expect.objectContaining({ code }) });

/** Every procedure with valid kwargs aimed at acme's deployment `shared` (no tenant kwarg). */
function everyCall(): [string, Record<string, unknown>][] {
  return [
    ["fediversity.deployment.submit", { deployment: "shared", deployment_type: "e2e", configuration: { salt: freshSalt() } }],
    ["fediversity.deployment.plan", { deployment: "shared", deployment_type: "e2e", configuration: { salt: freshSalt() } }],
    ["fediversity.deployment.get", { deployment: "shared" }],
    ["fediversity.deployment.list", {}],
    ["fediversity.deployment.cancel", { deployment: "shared" }],
    ["fediversity.deployment.delete", { deployment: "shared" }],
    ["fediversity.deployment.rollback", { deployment: "shared" }],
    ["fediversity.deployment.events", { deployment: "shared" }],
    ["fediversity.build.logs", { deployment: "shared", sync: acmeSync.sync }],
    ["fediversity.build.logs", { deployment: "shared", sync: acmeSync.sync, follow: true }],
    ["fediversity.build.graph", { deployment: "shared", sync: acmeSync.sync }],
  ];
}

describe("tenant isolation", () => {
  it("refuses every procedure a tenant session aims at another tenant with `tenant`", async () => {
    const before = await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "shared" });
    for (const [uri, kwargs] of everyCall()) {
      const f = await beta.fail(uri, { ...kwargs, tenant: "acme" });
      expect(f, uri).toEqual(err("not_authorized"));
      // Naming its own tenant is allowed (and then acme's deployment is simply not there).
      if (uri !== "fediversity.deployment.submit" && uri !== "fediversity.deployment.plan" && uri !== "fediversity.deployment.list") {
        expect(await beta.fail(uri, { ...kwargs, tenant: "beta" }), uri).toEqual(err("not_found"));
      }
    }
    expect(await beta.fail("fediversity.queue.status")).toEqual(err("not_authorized"));
    // Nothing changed on acme's side.
    const after = await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "shared" });
    expect(after.seq).toBe(before.seq);
    expect(after.state).toBe("active");
  });

  it("resolves a tenant session's calls to its own tenant: acme's names and sync ids are not found", async () => {
    for (const [uri, kwargs] of everyCall()) {
      if (uri === "fediversity.deployment.submit" || uri === "fediversity.deployment.plan" || uri === "fediversity.deployment.list") continue;
      expect(await beta.fail(uri, kwargs), uri).toEqual(err("not_found"));
    }
    // beta's own deployment of the same name, then acme's sync id under it.
    const own = await beta.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "shared", deployment_type: "e2e", configuration: { salt: freshSalt() } });
    expect(own.sync.tenant).toBe("beta");
    expect(await waitForSync(beta, "shared", own.sync.sync)).toBe("succeeded");
    expect(await beta.fail("fediversity.build.logs", { deployment: "shared", sync: acmeSync.sync })).toEqual(err("not_found"));
    expect(await beta.fail("fediversity.build.graph", { deployment: "shared", sync: acmeSync.sync })).toEqual(err("not_found"));
    expect(await beta.fail("fediversity.deployment.cancel", { deployment: "shared", sync: acmeSync.sync })).toEqual(err("not_found"));
    // acme sees only acme: its view, events and list are untouched by beta's deployment.
    const list = await beta.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list");
    expect(list.deployments.map((d) => `${d.tenant}/${d.deployment}`)).toEqual(["beta/shared"]);
    const acmeEvents = await allEvents(acme, "shared");
    expect(acmeEvents.every((e) => e.tenant === "acme" && e.sync !== own.sync.sync)).toBe(true);
    const acmeList = await acme.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list");
    expect(acmeList.deployments.every((d) => d.tenant === "acme")).toBe(true);
  });

  it("refuses every topic of another tenant, whatever the match policy, and delivers none of its events", async () => {
    const refused: [string, "exact" | "prefix" | "wildcard"][] = [
      ["fediversity.events.acme.shared", "exact"],
      ["fediversity.logs.acme.shared", "exact"],
      ["fediversity.events.acme", "prefix"],
      ["fediversity.events.acme.", "prefix"],
      ["fediversity.logs.acme", "prefix"],
      ["fediversity.events.ac", "prefix"],
      ["fediversity.events", "prefix"],
      ["fediversity.logs", "prefix"],
      ["fediversity", "prefix"],
      ["fediversity.events..shared", "wildcard"],
      ["fediversity.logs..shared", "wildcard"],
      ["fediversity.events.acme.", "wildcard"],
    ];
    for (const [topic, match] of refused) {
      await expect(beta.subscribe(topic, () => {}, match), `${match} ${topic}`).rejects.toMatchObject({ error: "wamp.error.not_authorized" });
    }
    // Tenants neither publish on nor register under the API's URIs.
    await expect(beta.session.publish("fediversity.events.beta.shared", [{ seq: 999 }], {}, { acknowledge: true })).rejects.toMatchObject({ error: "wamp.error.not_authorized" });
    await expect(beta.session.register("fediversity.deployment.get", () => ({}))).rejects.toMatchObject({ error: "wamp.error.not_authorized" });

    // beta's own subscriptions (exact, bare prefix, logs) hear nothing while acme deploys.
    const heard: unknown[] = [];
    await beta.subscribe("fediversity.events.beta", (e) => heard.push(e), "prefix");
    await beta.subscribe("fediversity.logs.beta", (e) => heard.push(e), "prefix");
    await beta.subscribe("fediversity.events.beta.shared", (e) => heard.push(e));
    const acmeHeard: ApiEvent[] = [];
    await acme.subscribe("fediversity.events.acme", (e) => acmeHeard.push(e as ApiEvent), "prefix");
    const r = await acme.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "shared", configuration: { salt: freshSalt(), lines: 20 } });
    expect(await waitForSync(acme, "shared", r.sync.sync)).toBe("succeeded");
    await sleep(300);
    expect(acmeHeard.filter((e) => e.sync === r.sync.sync).length).toBeGreaterThan(5);
    expect(heard).toEqual([]);
  });

  it("lets the panel and the operator act for any tenant; queue.status is the operator's alone", async () => {
    await expect(panel.call<DeploymentView>("fediversity.deployment.get", { deployment: "shared", tenant: "acme" })).resolves.toMatchObject({ tenant: "acme" });
    await expect(operator.call<DeploymentView>("fediversity.deployment.get", { deployment: "shared", tenant: "beta" })).resolves.toMatchObject({ tenant: "beta" });
    // Without `tenant` the panel must name one (list excepted: all tenants).
    const missing = await panel.fail("fediversity.deployment.get", { deployment: "shared" });
    expect(missing).toEqual(err("invalid_argument"));
    const all = await panel.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list");
    expect(new Set(all.deployments.map((d) => d.tenant))).toEqual(new Set(["acme", "beta"]));
    // Panel and operator may subscribe to any tenant's topics.
    await panel.subscribe("fediversity.events.acme", () => {}, "prefix");
    await operator.subscribe("fediversity.logs.beta.shared", () => {});

    expect(await panel.fail("fediversity.queue.status")).toEqual(err("not_authorized"));
    expect(await acme.fail("fediversity.queue.status")).toEqual(err("not_authorized"));
    const q = await operator.call<{ syncs: Record<string, number>; scheduler: Record<string, unknown> }>("fediversity.queue.status");
    expect(Object.keys(q.syncs).sort()).toEqual(["building", "deploying", "evaluating", "queued"]);
    expect(Object.values(q.syncs).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    expect(q.scheduler).toMatchObject({ total_executors: 2, active_executors: 2 });
  });
});

describe("error URIs", () => {
  it("invalid_argument names the path of every problem", async () => {
    const bad = await acme.fail("fediversity.deployment.submit", { deployment: "Bad!", configuration: [], mode: "sideways", bogus: 1 });
    expect(bad).toEqual(err("invalid_argument"));
    const paths = (bad.kwargs["details"] as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(["bogus", "configuration", "deployment", "mode"]);
    expect(bad.args[0]).toBe(bad.kwargs["message"]);

    const cfg = await acme.fail("fediversity.deployment.submit", { deployment: "fresh", deployment_type: "e2e", configuration: { salt: 5, domain: "NOT A DOMAIN", extra: 1 } });
    expect(cfg).toEqual(err("invalid_argument"));
    expect((cfg.kwargs["details"] as { path: string }[]).map((d) => d.path).sort()).toEqual(["configuration.domain", "configuration.extra", "configuration.salt"]);
    // A rejected submit creates nothing.
    expect(await acme.fail("fediversity.deployment.get", { deployment: "fresh" })).toEqual(err("not_found"));

    const cases: [string, Record<string, unknown>, string][] = [
      ["fediversity.deployment.submit", { deployment: "fresh", deployment_type: "nope", configuration: {} }, "deployment_type"],
      ["fediversity.deployment.submit", { deployment: "fresh", configuration: { salt: "x" } }, "deployment_type"],
      ["fediversity.deployment.submit", { deployment: "shared", configuration: { salt: "x" }, request_id: "r".repeat(129) }, "request_id"],
      ["fediversity.deployment.submit", { deployment: "shared", configuration: { salt: "x" }, priority: "urgent" }, "priority"],
      ["fediversity.deployment.plan", { deployment: "shared", configuration: { salt: 1 } }, "configuration.salt"],
      ["fediversity.deployment.list", { limit: 501 }, "limit"],
      ["fediversity.deployment.list", { cursor: "garbage!!" }, "cursor"],
      ["fediversity.deployment.list", { state: "sleeping" }, "state"],
      ["fediversity.deployment.events", { deployment: "shared", limit: 1001 }, "limit"],
      ["fediversity.deployment.events", { deployment: "shared", since: -1 }, "since"],
      ["fediversity.build.logs", { deployment: "shared", sync: acmeSync.sync, limit: 10_001 }, "limit"],
      ["fediversity.deployment.rollback", { deployment: "shared", generation: "one" }, "generation"],
      ["fediversity.schema.get", { tenant: "acme" }, "tenant"],
      ["fediversity.deployment.get", { deployment: "shared", tenant: "Not A Tenant" }, "tenant"],
    ];
    for (const [uri, kwargs, path] of cases) {
      const f = await acme.fail(uri, kwargs);
      expect(f, `${uri} ${path}`).toEqual(err("invalid_argument"));
      expect((f.kwargs["details"] as { path: string }[]).map((d) => d.path), `${uri} ${path}`).toContain(path);
    }
    // Positional arguments are refused: keyword arguments only.
    await expect(acme.session.call("fediversity.deployment.get", ["shared"])).rejects.toMatchObject({ error: "fediversity.error.invalid_argument" });
  });

  it("not_found for unknown deployments, syncs, generations and types", async () => {
    const sync = acmeSync.sync;
    const cases: [string, Record<string, unknown>][] = [
      ["fediversity.deployment.get", { deployment: "never" }],
      ["fediversity.deployment.events", { deployment: "never" }],
      ["fediversity.deployment.cancel", { deployment: "never" }],
      ["fediversity.deployment.delete", { deployment: "never" }],
      ["fediversity.deployment.rollback", { deployment: "never" }],
      ["fediversity.deployment.rollback", { deployment: "shared", generation: 99 }],
      ["fediversity.build.logs", { deployment: "never", sync }],
      ["fediversity.build.logs", { deployment: "shared", sync: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }],
      ["fediversity.build.graph", { deployment: "shared", sync: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }],
      ["fediversity.deployment.cancel", { deployment: "shared", sync: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }],
      ["fediversity.schema.get", { deployment_type: "nope" }],
    ];
    for (const [uri, kwargs] of cases) expect(await acme.fail(uri, kwargs), `${uri} ${JSON.stringify(kwargs)}`).toEqual(err("not_found"));
    // Cancelling a terminal sync is no error: it is refused with a reason.
    await expect(acme.call("fediversity.deployment.cancel", { deployment: "shared", sync })).resolves.toEqual({ cancelled: [], refused: [{ sync, reason: "terminal" }] });
  });

  it("resource_exhausted for a configuration over 256 KiB and for more than 100 unfinished syncs", async () => {
    const big = { salt: freshSalt(), padding: "x".repeat(256 * 1024) };
    for (const uri of ["fediversity.deployment.submit", "fediversity.deployment.plan"]) {
      const f = await acme.fail(uri, { deployment: "crowd", deployment_type: "e2e", configuration: big });
      expect(f, uri).toEqual(err("resource_exhausted"));
      expect(f.kwargs["details"]).toEqual([expect.objectContaining({ path: "configuration" })]);
    }
    // Just under the limit is accepted (then replaced, so it never builds).
    const near = { salt: freshSalt(), padding: "x".repeat(256 * 1024 - 100) };
    const first = await acme.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "crowd", deployment_type: "e2e", configuration: near });
    // A held sync plus 99 queued = 100 unfinished; the 101st is refused.
    const hold = await acme.call<{ sync: SyncView; superseded: string[] }>("fediversity.deployment.submit", { deployment: "crowd", configuration: { salt: freshSalt(), build_sleep_secs: 60 } });
    expect(hold.superseded).toEqual([first.sync.sync]);
    for (let i = 0; i < 99; i++) {
      await acme.call("fediversity.deployment.submit", { deployment: "crowd", configuration: { salt: `${freshSalt()}-${i}` }, mode: "enqueue" });
    }
    const view = await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "crowd" });
    expect((view.current ? 1 : 0) + (view.queue?.length ?? 0)).toBe(100);
    const over = await acme.fail("fediversity.deployment.submit", { deployment: "crowd", configuration: { salt: freshSalt() }, mode: "enqueue" });
    expect(over).toEqual(err("resource_exhausted"));
    const seq = (await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "crowd" })).seq;
    expect(seq).toBe(view.seq); // the refused submit stored nothing
    const cancelled = await acme.call<{ cancelled: string[] }>("fediversity.deployment.cancel", { deployment: "crowd" });
    expect(cancelled.cancelled).toHaveLength(100);
    expect(await waitForSync(acme, "crowd", hold.sync.sync)).toBe("cancelled");
  });

  it("unavailable while the scheduler refuses (safe to retry), then it works again", async () => {
    scheduler.faults.unavailableFor(1_500);
    expect(await operator.fail("fediversity.queue.status")).toEqual(err("unavailable"));
    expect(await acme.fail("fediversity.build.graph", { deployment: "shared", sync: acmeSync.sync })).toEqual(err("unavailable"));
    await sleep(1_700);
    await expect(operator.call("fediversity.queue.status")).resolves.toHaveProperty("scheduler");
    await expect(acme.call("fediversity.build.graph", { deployment: "shared", sync: acmeSync.sync })).resolves.toHaveProperty("nodes");
  });

  it("internal hides the cause behind an incident id", async () => {
    // A real SQLite failure: a trigger (added through a second connection) that cannot run.
    const db = new Database(join(dir.dataDir, "fediversity.sqlite"));
    try {
      db.exec("CREATE TRIGGER e2e_break BEFORE INSERT ON syncs BEGIN SELECT e2e_secret_detail_fn('hunter2'); END");
      const f = await acme.fail("fediversity.deployment.submit", { deployment: "shared", configuration: { salt: freshSalt() } });
      expect(f).toEqual(err("internal"));
      const text = JSON.stringify(f);
      expect(text).not.toMatch(/e2e_secret|hunter2|sqlite|trigger|syncs/i);
      expect(f.args[0]).toMatch(/incident [0-9a-f-]{36}/);
    } finally {
      db.exec("DROP TRIGGER IF EXISTS e2e_break");
      db.close();
    }
    await expect(acme.call("fediversity.deployment.get", { deployment: "shared" })).resolves.toMatchObject({ tenant: "acme" });
  });
});
