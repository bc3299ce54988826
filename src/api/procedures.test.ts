import { describe, expect, it } from "vitest";
import autobahn from "autobahn";
import type { DeploymentService, FollowLogsInput, SubmitInput } from "../service/port.js";
import { apiProcedures, type ProcedureContext } from "./procedures.js";
import { registerApi } from "./register.js";
import type { CallerIdentity } from "./caller.js";
import type { LogsResult, SyncView } from "../core/index.js";

const view = (tenant: string, deployment: string): SyncView => ({
  sync: "01JAAAAAAAAAAAAAAAAAAAAAAA",
  deployment,
  tenant,
  kind: "apply",
  state: "queued",
  mode: "replace",
  priority: "interactive",
  position: 0,
  submitted_at: "2026-11-27T00:00:00Z",
  started_at: null,
  finished_at: null,
  config_hash: "sha256:00",
  build: null,
  error: null,
  superseded_by: null,
});

function fakeService(batches: LogsResult[] = []) {
  const submitted: SubmitInput[] = [];
  const follows: FollowLogsInput[] = [];
  const notUsed = async (): Promise<never> => {
    throw new Error("not used in this test");
  };
  const service: DeploymentService = {
    async submit(input) {
      submitted.push(input);
      return { sync: view(input.tenant, input.deployment), superseded: [] };
    },
    plan: notUsed,
    get: notUsed,
    async list(input) {
      return { deployments: [], next_cursor: input.tenant };
    },
    cancel: notUsed,
    delete: notUsed,
    rollback: notUsed,
    events: notUsed,
    logs: notUsed,
    async *followLogs(input) {
      follows.push(input);
      for (const b of batches) {
        if (input.signal.aborted) return;
        yield b;
      }
    },
    graph: notUsed,
    schema: notUsed,
    async queueStatus() {
      return { syncs: { queued: 0, evaluating: 0, building: 0, deploying: 0 }, scheduler: {} };
    },
    syncGet: notUsed,
    history: notUsed,
    createWebhook: notUsed,
    listWebhooks: notUsed,
    deleteWebhook: notUsed,
    webhookDeliveries: notUsed,
  };
  return { service, submitted, follows };
}

const acme: CallerIdentity = { session: 1, authid: "joe", authrole: "tenant", tenant: "acme" };
const panel: CallerIdentity = { session: 2, authid: "panel", authrole: "panel", tenant: null };

function ctx(service: DeploymentService, caller: CallerIdentity, progress: ProcedureContext["progress"] = null): ProcedureContext {
  return { service, caller, limits: { maxConfigurationBytes: 1024 }, progress, signal: new AbortController().signal };
}

function spec(uri: string) {
  const s = apiProcedures.find((p) => p.uri === uri);
  if (!s) throw new Error(uri);
  return s;
}

describe("procedures", () => {
  it("registers every contract procedure exactly once", () => {
    expect(apiProcedures.map((p) => p.uri).sort()).toEqual(
      [
        "fediversity.build.graph",
        "fediversity.build.logs",
        "fediversity.deployment.cancel",
        "fediversity.deployment.delete",
        "fediversity.deployment.events",
        "fediversity.deployment.get",
        "fediversity.deployment.list",
        "fediversity.deployment.plan",
        "fediversity.deployment.rollback",
        "fediversity.deployment.submit",
        "fediversity.queue.status",
        "fediversity.schema.get",
        // v1.1
        "fediversity.sync.get",
        "fediversity.deployment.history",
        "fediversity.webhook.create",
        "fediversity.webhook.list",
        "fediversity.webhook.delete",
        "fediversity.webhook.deliveries",
      ].sort(),
    );
  });

  it("submits with defaults, the caller's tenant and the actor", async () => {
    const f = fakeService();
    await spec("fediversity.deployment.submit").handle(ctx(f.service, acme), [], { deployment: "mastodon", configuration: {} });
    expect(f.submitted[0]).toMatchObject({
      tenant: "acme",
      deployment: "mastodon",
      mode: "replace",
      priority: "interactive",
      requestId: undefined,
      deploymentType: undefined,
      actor: { authid: "joe", authrole: "tenant", session: 1 },
    });
  });

  it("refuses a tenant acting for another tenant, and a panel without tenant", async () => {
    const f = fakeService();
    const submit = spec("fediversity.deployment.submit");
    await expect(
      submit.handle(ctx(f.service, acme), [], { deployment: "m", configuration: {}, tenant: "beta" }),
    ).rejects.toMatchObject({ code: "not_authorized" });
    await expect(submit.handle(ctx(f.service, panel), [], { deployment: "m", configuration: {} })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await submit.handle(ctx(f.service, panel), [], { deployment: "m", configuration: {}, tenant: "beta" });
    expect(f.submitted[0]?.tenant).toBe("beta");
  });

  it("lists all tenants for a panel that names none, only its own for a tenant", async () => {
    const f = fakeService();
    const list = spec("fediversity.deployment.list");
    expect(await list.handle(ctx(f.service, panel), [], {})).toEqual({ deployments: [], next_cursor: null });
    expect(await list.handle(ctx(f.service, acme), [], {})).toEqual({ deployments: [], next_cursor: "acme" });
  });

  it("limits the configuration size", async () => {
    const f = fakeService();
    await expect(
      spec("fediversity.deployment.submit").handle(ctx(f.service, acme), [], {
        deployment: "m",
        configuration: { big: "x".repeat(2048) },
      }),
    ).rejects.toMatchObject({ code: "resource_exhausted" });
  });

  it("keeps queue.status for operators", async () => {
    const f = fakeService();
    await expect(spec("fediversity.queue.status").handle(ctx(f.service, panel), [], {})).rejects.toMatchObject({
      code: "not_authorized",
    });
    await expect(
      spec("fediversity.queue.status").handle(ctx(f.service, { ...panel, authrole: "operator" }), [], {}),
    ).resolves.toMatchObject({ syncs: { queued: 0 } });
  });

  it("streams followed logs as progressive results and returns the final batch", async () => {
    const line = (n: number) => ({ line: n, source: "build" as const, derivation: null, text: `l${n}` });
    const f = fakeService([
      { lines: [line(0)], next_line: 1, complete: false },
      { lines: [], next_line: 1, complete: false },
      { lines: [line(1)], next_line: 2, complete: false },
      { lines: [line(2)], next_line: 3, complete: true },
    ]);
    const progress: unknown[] = [];
    const result = await spec("fediversity.build.logs").handle(
      ctx(f.service, acme, (r) => progress.push(r)),
      [],
      { deployment: "m", sync: "01J", follow: true, since_line: 0 },
    );
    expect(progress).toEqual([
      { lines: [line(0)], next_line: 1, complete: false },
      { lines: [line(1)], next_line: 2, complete: false },
    ]);
    expect(result).toEqual({ lines: [line(2)], next_line: 3, complete: true });
    expect(f.follows[0]).toMatchObject({ tenant: "acme", sync: "01J", sinceLine: 0, limit: 1000 });
  });

  it("follows as a long poll when the caller did not ask for progress", async () => {
    const line = { line: 0, source: "deploy" as const, derivation: null, text: "x" };
    const f = fakeService([
      { lines: [], next_line: 0, complete: false },
      { lines: [line], next_line: 1, complete: false },
      { lines: [], next_line: 1, complete: true },
    ]);
    const result = await spec("fediversity.build.logs").handle(ctx(f.service, acme), [], {
      deployment: "m",
      sync: "01J",
      follow: true,
    });
    expect(result).toEqual({ lines: [line], next_line: 1, complete: false });
  });
});

describe("registerApi over a session double", () => {
  type Endpoint = (args?: unknown[], kwargs?: unknown, details?: unknown) => Promise<unknown>;
  function sessionDouble(lookups: number[]) {
    const endpoints = new Map<string, { endpoint: Endpoint; options: unknown }>();
    const session = {
      register(uri: string, endpoint: Endpoint, options: unknown) {
        endpoints.set(uri, { endpoint, options });
        return Promise.resolve({ procedure: uri, id: endpoints.size, active: true });
      },
      unregister() {
        return Promise.resolve();
      },
      subscribe() {
        return Promise.resolve({ active: true });
      },
      unsubscribe() {
        return Promise.resolve();
      },
      call(uri: string, args: number[]) {
        expect(uri).toBe("wamp.session.get");
        lookups.push(args[0] ?? -1);
        return Promise.resolve({ session: args[0], authid: "joe", authrole: "tenant", authextra: { tenant: "acme" } });
      },
    };
    return { session: session as unknown as autobahn.Session, endpoints };
  }

  it("registers with disclose_caller, resolves the tenant via wamp.session.get (cached), maps errors", async () => {
    const lookups: number[] = [];
    const { session, endpoints } = sessionDouble(lookups);
    const f = fakeService();
    const handle = await registerApi(session, f.service);
    expect(handle.registrations.size).toBe(18);
    const submit = endpoints.get("fediversity.deployment.submit");
    expect(submit?.options).toEqual({ disclose_caller: true });
    const details = { caller: 42, caller_authid: "joe", caller_authrole: "tenant", procedure: "x" };
    const r = await submit?.endpoint([], { deployment: "mastodon", configuration: {} }, details);
    expect(r).toMatchObject({ sync: { tenant: "acme", deployment: "mastodon" }, superseded: [] });
    await submit?.endpoint([], { deployment: "pixelfed", configuration: {} }, details);
    expect(lookups).toEqual([42]);

    const failure = await submit?.endpoint([], { deployment: "x", configuration: {}, tenant: "beta" }, details).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(autobahn.Error);
    expect(failure).toMatchObject({
      error: "fediversity.error.not_authorized",
      args: [expect.any(String)],
      kwargs: { code: "not_authorized" },
    });
    const internal = await endpoints
      .get("fediversity.deployment.get")
      ?.endpoint([], { deployment: "x" }, details)
      .catch((e: unknown) => e);
    expect(internal).toMatchObject({ error: "fediversity.error.internal" });
    expect(JSON.stringify(internal)).not.toContain("not used in this test");
    await handle.close();
  });
});
