import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SubmitBuildRequestSchema } from "../../generated/build_types_pb.js";
import { DerivationEdgeSchema, DerivationNodeSchema, type DerivationNode } from "../../generated/dag_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { validateSubmission } from "../../src/scheduler/validate-submit.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, type SchedulerClients } from "../helpers/scheduler-test-client.js";

let sched: LocalScheduler;
let c: SchedulerClients;
let dag: FixtureDag;

beforeAll(async () => {
  sched = await createLocalScheduler({ listen: "127.0.0.1:0" });
  c = connectScheduler(sched.url);
  dag = await instantiateFixtureDag([{ name: "one", lines: 1 }, { name: "two", deps: ["one"], lines: 1 }], freshSalt());
});
afterAll(async () => {
  await sched.close();
});

type SubmitInit = MessageInitShape<typeof SubmitBuildRequestSchema>;

/** Submits and returns the status code of the failure, or "ok" with the events seen. */
async function submitCode(init: SubmitInit): Promise<{ code: Code | "ok"; message: string }> {
  try {
    for await (const e of c.scheduler.submitBuild(create(SubmitBuildRequestSchema, init))) {
      if (isTerminalEvent(e)) break;
    }
    return { code: "ok", message: "" };
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: ce.code, message: ce.rawMessage };
  }
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function streamCode(it: AsyncIterable<unknown>): Promise<Code | "ok"> {
  return codeOf((async () => {
    for await (const _ of it) void _;
  })());
}

function withNode(patch: Partial<DerivationNode>): SubmitInit {
  const [first, ...rest] = dag.nodes;
  return { nodes: [{ ...first!, ...patch }, ...rest], edges: dag.edges };
}

const fakeHash = "0123456789abcdfghijklmnpqrsvwxyz";

describe("SubmitBuild validation", () => {
  it.each([
    ["empty drv_hash", { drvHash: "" }],
    ["empty system", { system: "" }],
    ["drv_path outside the store", { drvPath: `/tmp/${fakeHash}-x.drv` }],
    ["drv_path not ending .drv", { drvPath: `/nix/store/${fakeHash}-x` }],
    ["drv_path with a non-nixbase32 hash", { drvPath: `/nix/store/${fakeHash.replace("0", "e")}-x.drv` }],
    ["drv_path with a short hash", { drvPath: `/nix/store/${fakeHash.slice(1)}-x.drv` }],
    ["drv_path with a 212-char name", { drvPath: `/nix/store/${fakeHash}-${"a".repeat(208)}.drv` }],
    ["drv_content over 256 KiB", { drvContent: new Uint8Array(256 * 1024 + 1) }],
    ["drv_content that differs from the store file", { drvContent: new TextEncoder().encode("Derive([])") }],
    ["a .drv missing from the local store", { drvPath: `/nix/store/${fakeHash}-x.drv`, drvHash: `/nix/store/${fakeHash}-x.drv` }],
  ])("rejects %s with INVALID_ARGUMENT", async (_name, patch) => {
    expect((await submitCode(withNode(patch))).code).toBe(Code.InvalidArgument);
  });

  it("accepts a 211-char name (the limit) as far as the path check goes", async () => {
    const r = await submitCode(withNode({ drvPath: `/nix/store/${fakeHash}-${"a".repeat(207)}.drv` }));
    expect(r.code).toBe(Code.InvalidArgument);
    expect(r.message).toContain("not in the local store");
  });

  it("rejects bad priority classes and accepts the three names and empty", async () => {
    for (const bad of ["CI", "urgent", " ci"]) {
      expect((await submitCode({ nodes: dag.nodes, edges: dag.edges, priorityClass: bad })).code).toBe(Code.InvalidArgument);
    }
    for (const good of ["", "ci", "interactive", "scheduled"]) {
      expect((await submitCode({ nodes: dag.nodes, edges: dag.edges, priorityClass: good })).code).toBe("ok");
    }
    const list = await c.admin.listBuilds({ limit: 4 });
    expect(list.builds.map((b) => b.priorityClass)).toEqual(["scheduled", "interactive", "ci", "scheduled"]);
  });

  it("rejects too many nodes and too many edges", async () => {
    const node = create(DerivationNodeSchema, {});
    expect((await submitCode({ nodes: new Array(1_048_577).fill(node) })).code).toBe(Code.InvalidArgument);
    // 5,242,881 edges over the wire cost ~15 s of CPU here, so the edge bound is checked on the
    // validator the handler calls first.
    const edge = create(DerivationEdgeSchema, {});
    const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes });
    req.edges = new Array(5_242_881).fill(edge);
    expect(() => validateSubmission(req)).toThrow(/too many edges/);
    req.edges = new Array(5_242_880).fill(edge);
    expect(() => validateSubmission(req)).not.toThrow();
  }, 60_000);

  it("treats expected output paths that are not store paths as not cached", async () => {
    const [first, ...rest] = dag.nodes;
    const r = await submitCode({ nodes: [{ ...first!, expectedOutputPaths: ["not-a-path"] }, ...rest], edges: dag.edges });
    expect(r.code).toBe("ok");
  });

  it("answers INTERNAL for a dependency cycle and dedups repeated nodes and edges", async () => {
    const cyclic = [...dag.edges, create(DerivationEdgeSchema, { parentDrvPath: dag.drvs.one!, childDrvPath: dag.drvs.two! })];
    expect((await submitCode({ nodes: dag.nodes, edges: cyclic })).code).toBe(Code.Internal);
    // a DAG not built yet: with its root's output valid, the submission would shrink to the root
    const fresh = await instantiateFixtureDag([{ name: "one", lines: 1 }, { name: "two", deps: ["one"], lines: 1 }], freshSalt());
    const events = [];
    for await (const e of c.scheduler.submitBuild(create(SubmitBuildRequestSchema, { nodes: [...fresh.nodes, ...fresh.nodes], edges: [...fresh.edges, ...fresh.edges] }))) {
      events.push(e);
      if (isTerminalEvent(e)) break;
    }
    const started = events.find((e) => e.event.case === "started");
    expect(started?.event.case === "started" && started.event.value.totalDerivations).toBe(2);
  });
});

describe("tenants and admin edges", () => {
  it("creates, lists and resolves tenants; submits under one; filters ListBuilds", async () => {
    const name = `team-${freshSalt()}`;
    const created = await c.admin.createTenant({ tenantName: `  ${name} `, cacheToken: "secret" });
    expect(created.tenant?.tenantName).toBe(name);
    expect(created.tenant?.gcRetentionHours).toBe(168);
    expect(created.tenant?.hasCacheToken).toBe(true);
    expect(await codeOf(c.admin.createTenant({ tenantName: name }))).toBe(Code.AlreadyExists);
    expect(await codeOf(c.admin.createTenant({ tenantName: "team a" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.admin.createTenant({ tenantName: "" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.admin.createTenant({ tenantName: "other", cacheToken: "" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.admin.createTenant({ tenantName: "other2", cacheToken: "secret" }))).toBe(Code.AlreadyExists);
    const tenants = await c.admin.listTenants({});
    expect(tenants.tenants.map((t) => t.tenantName)).toContain(name);
    const resolved = await c.scheduler.resolveTenant({ tenantName: name });
    expect(resolved.tenantId).toBe(created.tenant?.tenantId);
    expect(await codeOf(c.scheduler.resolveTenant({ tenantName: "nobody" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.scheduler.resolveTenant({ tenantName: "" }))).toBe(Code.InvalidArgument);

    expect((await submitCode({ nodes: dag.nodes, edges: dag.edges, tenantName: "nobody" })).code).toBe(Code.InvalidArgument);
    expect((await submitCode({ nodes: dag.nodes, edges: dag.edges, tenantName: name })).code).toBe("ok");
    // interior whitespace is silently single-tenant in SubmitBuild, as in rio
    expect((await submitCode({ nodes: dag.nodes, edges: dag.edges, tenantName: "team a" })).code).toBe("ok");
    const mine = await c.admin.listBuilds({ tenantFilter: name });
    expect(mine.builds).toHaveLength(1);
    expect(mine.builds[0]?.tenantId).toBe(created.tenant?.tenantId);
    expect(await codeOf(c.admin.listBuilds({ tenantFilter: "nobody" }))).toBe(Code.InvalidArgument);
  });

  it("validates CreateTenant, ResolveTenant and ListBuilds filters with rio's codes and texts", async () => {
    const fail = async (p: Promise<unknown>) =>
      p.then(
        () => ({ code: "ok" as const, message: "" }),
        (err: unknown) => ({ code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage }),
      );
    const invalid = (message: string) => ({ code: Code.InvalidArgument, message });
    // admin/tenants.rs create_tenant: the token is trimmed; u32 values past i32 are out of range
    expect(await fail(c.admin.createTenant({ tenantName: "blank-token", cacheToken: "  " }))).toEqual(invalid("cache_token must not be empty string (omit field for none)"));
    expect(await fail(c.admin.createTenant({ tenantName: "forever", gcRetentionHours: 4294967295 }))).toEqual(invalid("gc_retention_hours out of range (max 2^31-1)"));
    expect(await fail(c.admin.createTenant({ tenantName: "huge", gcMaxStoreBytes: 2n ** 63n }))).toEqual(invalid("gc_max_store_bytes out of range (max 2^63-1)"));
    expect(await fail(c.admin.createTenant({ tenantName: "team a" }))).toEqual(invalid('invalid tenant_name: name contains interior whitespace: "team a"'));
    expect(await fail(c.admin.createTenant({ tenantName: " \t " }))).toEqual(invalid("invalid tenant_name: name is empty after trimming"));
    const name = `limits-${freshSalt()}`;
    const t = await c.admin.createTenant({ tenantName: name, gcRetentionHours: 2 ** 31 - 1, gcMaxStoreBytes: 2n ** 63n - 1n, cacheToken: ` tok-${name} ` });
    expect(t.tenant).toMatchObject({ gcRetentionHours: 2 ** 31 - 1, gcMaxStoreBytes: 2n ** 63n - 1n, hasCacheToken: true });
    expect((await c.admin.listTenants({})).tenants.find((x) => x.tenantName === name)?.gcMaxStoreBytes).toBe(2n ** 63n - 1n);
    // the stored token is the trimmed one, so its bare form collides
    expect(await fail(c.admin.createTenant({ tenantName: `${name}-2`, cacheToken: `tok-${name}` }))).toEqual({
      code: Code.AlreadyExists,
      message: `tenant '${name}-2' already exists (or cache_token collision)`,
    });
    expect((await fail(c.scheduler.resolveTenant({ tenantName: "team a" }))).message).toContain("interior whitespace");

    // ListBuilds: a blank or malformed tenant filter means no filter; a cursor set to "" is bad
    const all = (await c.admin.listBuilds({ limit: 1000 })).builds.map((b) => b.buildId);
    for (const tenantFilter of ["   ", "team a"]) {
      expect((await c.admin.listBuilds({ limit: 1000, tenantFilter })).builds.map((b) => b.buildId)).toEqual(all);
    }
    expect(await fail(c.admin.listBuilds({ cursor: "" }))).toEqual(invalid("bad cursor version"));
    expect((await fail(c.admin.listBuilds({ cursor: "not a cursor!" }))).code).toBe(Code.InvalidArgument);
  });

  it("pages ListBuilds with an opaque cursor, newest first", async () => {
    for (let i = 0; i < 3; i++) expect((await submitCode({ nodes: dag.nodes, edges: dag.edges })).code).toBe("ok");
    const all = await c.admin.listBuilds({ limit: 1000 });
    expect(all.totalCount).toBe(all.builds.length);
    const first = await c.admin.listBuilds({ limit: 2 });
    expect(first.builds).toHaveLength(2);
    expect(first.nextCursor).toBeTruthy();
    const second = await c.admin.listBuilds({ limit: 2, cursor: first.nextCursor! });
    expect(second.totalCount).toBe(0);
    expect([...first.builds, ...second.builds].map((b) => b.buildId)).toEqual(all.builds.slice(0, 4).map((b) => b.buildId));
    expect(await codeOf(c.admin.listBuilds({ cursor: "garbage" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.admin.listBuilds({ statusFilter: "weird" }))).toBe(Code.InvalidArgument);
    expect((await c.admin.listBuilds({ statusFilter: "succeeded" })).builds.length).toBe(all.builds.length);
  });

  it("lists GetBuildGraph nodes ordered by derivation path, whatever the submission order", async () => {
    const g = await instantiateFixtureDag([{ name: "g-a", lines: 0 }, { name: "g-b", lines: 0 }, { name: "g-c", lines: 0 }, { name: "g-top", deps: ["g-a", "g-b", "g-c"], lines: 0 }], freshSalt());
    const byPath = g.nodes.map((n) => n.drvPath).sort();
    // submitted in the reverse of path order (rio's load_build_graph orders by drv_path)
    const nodes = [...g.nodes].sort((a, b) => b.drvPath.localeCompare(a.drvPath));
    let buildId = "";
    for await (const e of c.scheduler.submitBuild(create(SubmitBuildRequestSchema, { nodes, edges: g.edges }), { onHeader: (h) => void (buildId = h.get("x-rio-build-id") ?? "") })) {
      if (isTerminalEvent(e)) break;
    }
    const graph = await c.admin.getBuildGraph({ buildId });
    expect(graph.nodes.map((n) => n.drvPath)).toEqual(byPath);
  });

  it("caps GetBuildGraph at 5000 nodes and marks it truncated", async () => {
    // a star (one top over 5000 leaves): cheap to instantiate, unlike a 5001-long chain
    const spec = [{ name: "top", lines: 0, deps: Array.from({ length: 5000 }, (_, i) => `n${i}`) }, ...Array.from({ length: 5000 }, (_, i) => ({ name: `n${i}`, lines: 0 }))];
    const big = await instantiateFixtureDag(spec, freshSalt());
    let buildId = "";
    const controller = new AbortController();
    const stream = c.scheduler.submitBuild(create(SubmitBuildRequestSchema, { nodes: big.nodes, edges: big.edges }), {
      signal: controller.signal,
      onHeader: (h) => {
        buildId = h.get("x-rio-build-id") ?? "";
      },
    });
    for await (const e of stream) if (e.event.case === "started") break;
    expect((await c.scheduler.cancelBuild({ buildId })).cancelled).toBe(true);
    controller.abort();
    const graph = await c.admin.getBuildGraph({ buildId });
    expect(graph.truncated).toBe(true);
    expect(graph.totalNodes).toBe(5001);
    expect(graph.nodes).toHaveLength(5000);
    const kept = new Set(graph.nodes.map((n) => n.drvPath));
    expect(graph.edges.every((e) => kept.has(e.parentDrvPath) && kept.has(e.childDrvPath))).toBe(true);
    expect(graph.edges.length).toBeGreaterThan(0);
  }, 60_000);

  it("answers the small error cases of Watch, Query, GetBuildGraph and GetBuildLogs", async () => {
    const unknown = "01900000-0000-7000-8000-000000000000";
    expect(await streamCode(c.scheduler.watchBuild({ buildId: unknown }))).toBe(Code.NotFound);
    expect(await streamCode(c.scheduler.watchBuild({ buildId: "nope" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(c.scheduler.queryBuildStatus({ buildId: unknown }))).toBe(Code.NotFound);
    const graph = await c.admin.getBuildGraph({ buildId: unknown });
    expect(graph.nodes).toHaveLength(0);
    expect(graph.totalNodes).toBe(0);
    expect(await codeOf(c.admin.getBuildGraph({ buildId: "nope" }))).toBe(Code.InvalidArgument);
    expect(await streamCode(c.admin.getBuildLogs({ derivationPath: "" }))).toBe(Code.InvalidArgument);
    expect(await streamCode(c.admin.getBuildLogs({ derivationPath: dag.drvs.one! }))).toBe(Code.NotFound);
    expect(await streamCode(c.admin.getBuildLogs({ derivationPath: `/nix/store/${fakeHash}-x.drv`, buildId: unknown }))).toBe(Code.NotFound);
    const cs = await c.admin.clusterStatus({});
    expect(cs.totalExecutors).toBe(2);
  });
});
