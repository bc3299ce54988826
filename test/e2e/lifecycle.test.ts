/**
 * Every procedure and topic of docs/api.md against the real service (store, local scheduler over gRPC,
 * Nix evaluation and builds, local deployer, runner, embedded router), for two tenants at once:
 * acme and beta each with their own tenant session, and the panel acting for a tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import type { RunningService } from "../../src/main.js";
import {
  allEvents,
  connectWamp,
  freshSalt,
  isContiguous,
  makeE2eDir,
  startInProcess,
  syncState,
  until,
  waitForSync,
  type ApiEvent,
  type DeploymentView,
  type E2eDir,
  type LogLine,
  type SyncView,
  type Wamp,
} from "../helpers/e2e-service.js";

let dir: E2eDir;
let scheduler: LocalScheduler;
let service: RunningService;
const clients: Wamp[] = [];

beforeAll(async () => {
  dir = await makeE2eDir();
  // Our own scheduler (the service reaches it over gRPC with --rio-url) so the tests hold its fault knobs.
  scheduler = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 2 });
  service = await startInProcess(dir, ["--rio-url", scheduler.url]);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await service?.stop();
  await scheduler?.close();
  await dir?.remove();
});

async function as(who: "acme" | "beta" | "panel" | "operator"): Promise<Wamp> {
  const c = await connectWamp(service.url, dir.principals[who]);
  clients.push(c);
  return c;
}

interface SubmitResult {
  sync: SyncView;
  superseded: string[];
}

/** The whole life of one deployment, driven by `w` for `tenant` (kwarg `tenant` when `w` is the panel). */
async function lifecycle(w: Wamp, tenant: string, viaPanel: boolean): Promise<void> {
  const kw = (k: Record<string, unknown>) => (viaPanel ? { ...k, tenant } : k);
  const dep = "web";
  const exact: ApiEvent[] = [];
  const prefixed: ApiEvent[] = [];
  const logLines = new Map<string, LogLine[]>();
  await w.subscribe(`fediversity.events.${tenant}.${dep}`, (e) => exact.push(e as ApiEvent));
  await w.subscribe(`fediversity.events.${tenant}`, (e) => prefixed.push(e as ApiEvent), "prefix");
  await w.subscribe(`fediversity.logs.${tenant}.${dep}`, (p) => {
    const { sync, lines } = p as { sync: string; lines: LogLine[] };
    logLines.set(sync, [...(logLines.get(sync) ?? []), ...lines]);
  });

  // schema.get: all types, and one by name.
  const schemas = await w.call<{ deployment_types: Record<string, { description: string; schema: { required: string[] } }> }>("fediversity.schema.get");
  expect(Object.keys(schemas.deployment_types).sort()).toEqual(["e2e", "e2e-alt"]);
  expect(schemas.deployment_types["e2e"]?.schema.required).toEqual(["salt"]);
  const one = await w.call<{ deployment_types: Record<string, unknown> }>("fediversity.schema.get", { deployment_type: "e2e" });
  expect(Object.keys(one.deployment_types)).toEqual(["e2e"]);

  // plan: evaluates, builds nothing.
  const planCfg = { salt: freshSalt() };
  const plan = await w.call<{ derivations: number; to_build: number; cached: number; nodes: { drv: string; pname: string; cached: boolean }[] }>(
    "fediversity.deployment.plan",
    kw({ deployment: dep, deployment_type: "e2e", configuration: planCfg }),
  );
  expect(plan).toMatchObject({ derivations: 2, to_build: 2, cached: 0 });
  expect(plan.nodes.map((n) => n.pname).sort()).toEqual(["e2e-app", "e2e-part"]);
  expect(plan.nodes.every((n) => n.drv.startsWith("/nix/store/") && n.cached === false)).toBe(true);
  await expect(w.fail("fediversity.deployment.get", kw({ deployment: dep }))).resolves.toMatchObject({ error: "fediversity.error.not_found" });

  // submit #1 → succeeded, generation 1.
  const cfg1 = { salt: freshSalt(), lines: 5 };
  const s1 = await w.call<SubmitResult>("fediversity.deployment.submit", kw({ deployment: dep, deployment_type: "e2e", configuration: cfg1 }));
  expect(s1.superseded).toEqual([]);
  expect(s1.sync).toMatchObject({ deployment: dep, tenant, kind: "apply", state: "queued", mode: "replace", priority: "interactive", position: 0, build: null, error: null });
  expect(s1.sync.config_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await waitForSync(w, dep, s1.sync.sync, ["succeeded"], { ...(viaPanel ? { tenant } : {}) })).toBe("succeeded");

  // submit #2, followed with build.logs(follow) and progressive results while it runs.
  const cfg2 = { salt: freshSalt(), lines: 40, build_sleep_secs: 1.5 };
  const s2 = await w.call<SubmitResult>("fediversity.deployment.submit", kw({ deployment: dep, configuration: cfg2 }));
  const progress: { lines: LogLine[]; next_line: number; complete: boolean }[] = [];
  const final = await new Promise<{ lines: LogLine[]; next_line: number; complete: boolean }>((resolve, reject) => {
    const p = w.session.call("fediversity.build.logs", [], kw({ deployment: dep, sync: s2.sync.sync, follow: true }), { receive_progress: true }) as unknown as {
      then(ok: (r: unknown) => void, fail: (e: unknown) => void, progress: (p: unknown) => void): void;
    };
    p.then(
      (r) => resolve(r as never),
      reject,
      (pr) => progress.push((Array.isArray((pr as { args?: unknown[] }).args) ? (pr as { args: unknown[] }).args[0] : pr) as never),
    );
  });
  expect(final.complete).toBe(true);
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.every((b) => b.complete === false && b.lines.length > 0)).toBe(true);
  const followed = [...progress.flatMap((b) => b.lines), ...final.lines];
  expect(followed.map((l) => l.line)).toEqual(followed.map((_, i) => i));
  expect(await waitForSync(w, dep, s2.sync.sync, ["succeeded"], { ...(viaPanel ? { tenant } : {}) })).toBe("succeeded");

  // build.logs paging: gapless 0-based numbers, build then deploy output, complete.
  const page1 = await w.call<{ lines: LogLine[]; next_line: number; complete: boolean }>("fediversity.build.logs", kw({ deployment: dep, sync: s2.sync.sync, limit: 10 }));
  expect(page1.lines.map((l) => l.line)).toEqual([...Array(10).keys()]);
  expect(page1.next_line).toBe(10);
  const rest = await w.call<{ lines: LogLine[]; next_line: number; complete: boolean }>("fediversity.build.logs", kw({ deployment: dep, sync: s2.sync.sync, since_line: 10, limit: 10_000 }));
  const all = [...page1.lines, ...rest.lines];
  expect(rest.complete).toBe(true);
  expect(all).toEqual(followed);
  expect(all.filter((l) => l.text.startsWith("e2e line ")).map((l) => l.text)).toEqual([...Array(40).keys()].map((i) => `e2e line ${i}`));
  expect(all.filter((l) => l.source === "build").every((l) => l.derivation?.endsWith(".drv"))).toBe(true);
  expect(all.some((l) => l.source === "deploy" && l.text === "e2e activated")).toBe(true);
  expect(all.findIndex((l) => l.source === "deploy")).toBeGreaterThan(all.findLastIndex((l) => l.source === "build"));
  const partDrv = all.find((l) => l.text === "e2e line 0")?.derivation ?? "";
  const onlyPart = await w.call<{ lines: LogLine[] }>("fediversity.build.logs", kw({ deployment: dep, sync: s2.sync.sync, derivation: partDrv, limit: 10_000 }));
  expect(onlyPart.lines.length).toBe(40);
  expect(onlyPart.lines.every((l) => l.derivation === partDrv)).toBe(true);
  // The logs topic carried the same lines.
  await until(() => (logLines.get(s2.sync.sync)?.length ?? 0) >= all.length, "published log lines");
  expect(logLines.get(s2.sync.sync)).toEqual(all);

  // build.graph.
  const graph = await w.call<{ nodes: { drv: string; pname: string; system: string; status: string; executor: string | null }[]; edges: [string, string][]; truncated: boolean }>(
    "fediversity.build.graph",
    kw({ deployment: dep, sync: s2.sync.sync }),
  );
  expect(graph.truncated).toBe(false);
  expect(graph.nodes.map((n) => [n.pname, n.status]).sort()).toEqual([["e2e-app", "completed"], ["e2e-part", "completed"]]);
  const app = graph.nodes.find((n) => n.pname === "e2e-app")?.drv;
  expect(graph.edges).toEqual([[app, partDrv]]);

  // get and list.
  const view = await w.call<DeploymentView>("fediversity.deployment.get", kw({ deployment: dep }));
  expect(view).toMatchObject({ deployment: dep, tenant, deployment_type: "e2e", state: "active", generation: 2, current: null, queue: [] });
  expect(view.last).toMatchObject({ sync: s2.sync.sync, state: "succeeded", position: null, error: null });
  expect(view.last?.build).toMatchObject({ total: 2, failed: 0 });
  const list = await w.call<{ deployments: DeploymentView[]; next_cursor: string | null }>("fediversity.deployment.list", kw({}));
  expect(list.deployments.length).toBeGreaterThan(0);
  expect(list.deployments.every((d) => d.tenant === tenant && !("queue" in d))).toBe(true);
  expect(list.deployments.map((d) => d.deployment)).toContain(dep);
  const activeOnly = await w.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list", kw({ state: "active" }));
  expect(activeOnly.deployments.every((d) => d.state === "active")).toBe(true);

  // rollback (default: the generation before the live one) applies cfg1's stored configuration.
  const rb = await w.call<SubmitResult>("fediversity.deployment.rollback", kw({ deployment: dep }));
  expect(rb.sync).toMatchObject({ kind: "apply", config_hash: s1.sync.config_hash });
  expect(await waitForSync(w, dep, rb.sync.sync, ["succeeded"], { ...(viaPanel ? { tenant } : {}) })).toBe("succeeded");
  const rbEvents = (await allEvents(w, dep, viaPanel ? tenant : undefined)).filter((e) => e.sync === rb.sync.sync);
  expect(rbEvents.some((e) => e.type === "build.submitted")).toBe(false); // no evaluation, no build
  await expect(w.call<DeploymentView>("fediversity.deployment.get", kw({ deployment: dep }))).resolves.toMatchObject({ state: "active", last: { sync: rb.sync.sync } });

  // cancel a sync while it builds.
  const s3 = await w.call<SubmitResult>("fediversity.deployment.submit", kw({ deployment: dep, configuration: { salt: freshSalt(), build_sleep_secs: 60 } }));
  await waitForSync(w, dep, s3.sync.sync, ["building"], { ...(viaPanel ? { tenant } : {}) });
  const cancel = await w.call<{ cancelled: string[]; refused: unknown[] }>("fediversity.deployment.cancel", kw({ deployment: dep, reason: "e2e test" }));
  expect(cancel).toEqual({ cancelled: [s3.sync.sync], refused: [] });
  expect(await waitForSync(w, dep, s3.sync.sync, [], { ...(viaPanel ? { tenant } : {}) })).toBe("cancelled");

  // delete: a teardown sync; the deployment stays listed as idle with its history.
  const del = await w.call<SubmitResult>("fediversity.deployment.delete", kw({ deployment: dep }));
  expect(del.sync).toMatchObject({ kind: "teardown", state: "queued" });
  expect(await waitForSync(w, dep, del.sync.sync, ["succeeded"], { ...(viaPanel ? { tenant } : {}) })).toBe("succeeded");
  const after = await w.call<DeploymentView>("fediversity.deployment.get", kw({ deployment: dep }));
  expect(after).toMatchObject({ state: "idle", current: null, last: { sync: del.sync.sync, kind: "teardown", state: "succeeded" } });

  // deployment.events: exactly the stored events; since is exclusive; limit pages with `more`.
  const stored = await allEvents(w, dep, viaPanel ? tenant : undefined);
  expect(isContiguous(stored.map((e) => e.seq))).toBe(true);
  expect(stored.at(-1)?.seq).toBe(after.seq);
  expect(stored.every((e) => e.tenant === tenant && e.deployment === dep && typeof e.at === "string")).toBe(true);
  const page = await w.call<{ events: ApiEvent[]; next: number; more: boolean }>("fediversity.deployment.events", kw({ deployment: dep, since: 2, limit: 3 }));
  expect(page.events.map((e) => e.seq)).toEqual([3, 4, 5]);
  expect(page).toMatchObject({ next: 5, more: true });
  const types = new Set<string>(stored.map((e) => e.type));
  for (const t of ["sync.queued", "sync.state", "sync.finished", "build.submitted", "build.started", "build.progress", "derivation", "deploy.started", "deploy.finished", "deployment.state"]) {
    expect(types.has(t), t).toBe(true);
  }
  // Published: exact and prefix subscriptions each saw every stored event once, in order.
  await until(() => exact.length >= stored.length && prefixed.filter((e) => e.deployment === dep).length >= stored.length, "published events");
  expect(exact).toEqual(stored);
  expect(prefixed.filter((e) => e.deployment === dep)).toEqual(stored);
  expect(prefixed.every((e) => e.tenant === tenant)).toBe(true);
}

describe("the API against the real engine", () => {
  it("runs every procedure and topic for two tenants at once (tenant sessions)", async () => {
    const [acme, beta] = await Promise.all([as("acme"), as("beta")]);
    await Promise.all([lifecycle(acme, "acme", false), lifecycle(beta, "beta", false)]);
  });

  it("lets the panel do the same for a tenant through the `tenant` kwarg", async () => {
    const panel = await as("panel");
    // A third tenant nobody has a session for: the panel owns its identity.
    await lifecycle(panel, "gamma", true);
    const all = await panel.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list", { limit: 500 });
    expect(new Set(all.deployments.map((d) => d.tenant))).toEqual(new Set(["acme", "beta", "gamma"]));
    const one = await panel.call<{ deployments: DeploymentView[] }>("fediversity.deployment.list", { tenant: "beta" });
    expect(one.deployments.map((d) => d.tenant)).toEqual(["beta"]);
    // Pagination with a cursor covers every deployment exactly once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const pageResult: { deployments: DeploymentView[]; next_cursor: string | null } = await panel.call("fediversity.deployment.list", { limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...pageResult.deployments.map((d) => `${d.tenant}/${d.deployment}`));
      cursor = pageResult.next_cursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual(all.deployments.map((d) => `${d.tenant}/${d.deployment}`).sort());
  });

  it("supersedes, enqueues and deduplicates by request_id as docs/api.md says", async () => {
    const acme = await as("acme");
    const dep = "modes";
    const a = await acme.call<SubmitResult>("fediversity.deployment.submit", { deployment: dep, deployment_type: "e2e", configuration: { salt: freshSalt(), build_sleep_secs: 60 }, request_id: "req-a" });
    await waitForSync(acme, dep, a.sync.sync, ["building"]);
    const again = await acme.call<SubmitResult>("fediversity.deployment.submit", { deployment: dep, configuration: { salt: freshSalt() }, request_id: "req-a" });
    expect(again).toEqual({ sync: expect.objectContaining({ sync: a.sync.sync }), superseded: [] });
    const q = await acme.call<SubmitResult>("fediversity.deployment.submit", { deployment: dep, configuration: { salt: freshSalt() }, mode: "enqueue", priority: "ci" });
    expect(q.superseded).toEqual([]);
    expect(q.sync).toMatchObject({ state: "queued", mode: "enqueue", priority: "ci", position: 1 });
    const view = await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: dep });
    expect(view.current?.sync).toBe(a.sync.sync);
    expect(view.queue?.map((s) => s.sync)).toEqual([q.sync.sync]);
    const b = await acme.call<SubmitResult>("fediversity.deployment.submit", { deployment: dep, configuration: { salt: freshSalt() }, priority: "scheduled" });
    expect(b.superseded.sort()).toEqual([a.sync.sync, q.sync.sync].sort());
    expect(await waitForSync(acme, dep, b.sync.sync, ["succeeded"])).toBe("succeeded");
    const events = await allEvents(acme, dep);
    expect(events.find((e) => e.sync === a.sync.sync && e.type === "sync.superseded")?.data).toEqual({ by: b.sync.sync });
    expect((await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: dep })).last).toMatchObject({ sync: b.sync.sync, state: "succeeded" });
    expect(syncState(events, a.sync.sync)).toBe("superseded");
    expect(syncState(events, q.sync.sync)).toBe("superseded");
    // The superseded build was cancelled: it never deployed.
    expect(events.some((e) => e.sync === a.sync.sync && e.type === "deploy.started")).toBe(false);
  });

  it("reports a failed build with the failing derivation, and falls back to what is live", async () => {
    const beta = await as("beta");
    const dep = "broken";
    const s = await beta.call<SubmitResult>("fediversity.deployment.submit", { deployment: dep, deployment_type: "e2e", configuration: { salt: freshSalt(), fail_build: true } });
    expect(await waitForSync(beta, dep, s.sync.sync)).toBe("failed");
    const view = await beta.call<DeploymentView>("fediversity.deployment.get", { deployment: dep });
    expect(view.state).toBe("idle");
    expect(view.last?.error).toMatchObject({ code: "build_failed" });
    expect(view.last?.error?.derivation).toMatch(/e2e-part\.drv$/);
    const logs = await beta.call<{ lines: LogLine[]; complete: boolean }>("fediversity.build.logs", { deployment: dep, sync: s.sync.sync });
    expect(logs.complete).toBe(true);
    expect(logs.lines.some((l) => l.text.includes("failing on purpose"))).toBe(true);
  });
});
