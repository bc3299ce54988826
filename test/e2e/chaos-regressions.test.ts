/**
 * What the chaos run of issue 11 §4 showed users, over real WAMP against the real service:
 * 1. cancelling a queued sync while another apply builds no longer flips the deployment's state;
 * 2. configuration keys `__proto__`/`constructor`/`prototype` are refused with their path where the
 *    type's schema forbids them and kept (in the hash and the deployed generation) where it allows
 *    them, over JSON, msgpack and CBOR — never silently dropped or obeyed;
 * 3. a configuration nested past the service's limit gets invalid_argument naming the limit, the
 *    same answer on the embedded router and in component mode behind an external router.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLimits } from "../../src/core/index.js";
import type { RunningService } from "../../src/main.js";
import {
  allEvents,
  connectWamp,
  e2eTypesPath,
  freePort,
  freshSalt,
  makeE2eDir,
  repoRoot,
  sleep,
  startInProcess,
  until,
  waitForSync,
  type ApiEvent,
  type DeploymentView,
  type E2eDir,
  type SerializerName,
  type SyncView,
  type Wamp,
  type WampFailure,
} from "../helpers/e2e-service.js";

let dir: E2eDir;
let service: RunningService;
let acme: Wamp;

/** The e2e types plus `e2e-open`, whose `extra` is any object (so nested keys are the client's to choose). */
async function writeTypes(path: string): Promise<void> {
  const doc = JSON.parse(await readFile(e2eTypesPath, "utf8")) as { deployment_types: Record<string, Record<string, unknown>> };
  const e2e = doc.deployment_types["e2e"]!;
  const schema = structuredClone(e2e["schema"]) as { properties: Record<string, unknown> };
  schema.properties["extra"] = { type: "object" };
  for (const t of Object.values(doc.deployment_types)) t["entry"] = { file: join(repoRoot, "test/fixtures/e2e/e2e.nix"), attribute: "" };
  doc.deployment_types["e2e-open"] = { ...e2e, schema, entry: { file: join(repoRoot, "test/fixtures/e2e/e2e.nix"), attribute: "" } };
  await writeFile(path, JSON.stringify(doc));
}

beforeAll(async () => {
  dir = await makeE2eDir();
  const types = join(dir.dir, "deployment-types.json");
  await writeTypes(types);
  service = await startInProcess(dir, ["--deployment-types", types]);
  acme = await connectWamp(service.url, dir.principals.acme);
});

afterAll(async () => {
  await acme?.close();
  await service?.stop();
  await dir?.remove();
});

const submit = (w: Wamp, kwargs: Record<string, unknown>) => w.call<{ sync: SyncView }>("fediversity.deployment.submit", kwargs);
const stateChanges = (events: readonly ApiEvent[]) => events.filter((e) => e.type === "deployment.state").map((e) => [e.data["from"], e.data["to"]]);

describe("1. cancelling a queued sync while another apply runs", () => {
  it("cancel(sync: B) keeps the deployment deploying while A builds; no deploying → active is stored or published", async () => {
    const heard: ApiEvent[] = [];
    await acme.subscribe("fediversity.events.acme.hold", (e) => heard.push(e as ApiEvent));
    const a = await submit(acme, { deployment: "hold", deployment_type: "e2e", configuration: { salt: freshSalt(), build_sleep_secs: 4 } });
    expect(await waitForSync(acme, "hold", a.sync.sync, ["building"])).toBe("building");
    const b = await submit(acme, { deployment: "hold", mode: "enqueue", configuration: { salt: freshSalt() } });

    const cancel = await acme.call("fediversity.deployment.cancel", { deployment: "hold", sync: b.sync.sync });
    expect(cancel).toEqual({ cancelled: [b.sync.sync], refused: [] });
    const view = await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "hold" });
    expect(view.current).toMatchObject({ sync: a.sync.sync, state: "building" });
    expect(view.state).toBe("deploying");
    expect(view.queue).toEqual([]);
    expect(stateChanges(await allEvents(acme, "hold"))).toEqual([["idle", "deploying"]]);

    expect(await waitForSync(acme, "hold", a.sync.sync)).toBe("succeeded");
    const events = await allEvents(acme, "hold");
    expect(stateChanges(events)).toEqual([
      ["idle", "deploying"],
      ["deploying", "active"],
    ]);
    await until(() => heard.length >= events.length, "published events");
    expect(heard).toEqual(events);
    expect(await acme.call<DeploymentView>("fediversity.deployment.get", { deployment: "hold" })).toMatchObject({ state: "active", generation: 1, current: null });
  });
});

/** A session that may be closed by the router when it cannot decode a frame: one per attempt. */
async function attempt(serializer: SerializerName, kwargs: Record<string, unknown>): Promise<WampFailure | "accepted" | "connection lost"> {
  const w = await connectWamp(service.url, dir.principals.acme, { serializer });
  try {
    const outcome = w.fail("fediversity.deployment.submit", kwargs).catch((err: unknown) =>
      String(err).includes(" succeeded: ") ? ("accepted" as const) : ("connection lost" as const),
    );
    const lost = w.closed.then(() => "connection lost" as const);
    return await Promise.race([outcome, lost]);
  } finally {
    await w.close();
  }
}

/** Configuration text with own keys named like Object.prototype members (what JSON.parse gives a client). */
const withKey = (key: string, nested: boolean) =>
  JSON.parse(nested ? `{"salt":"${freshSalt()}","extra":{"${key}":{"salt":"inner"}}}` : `{"salt":"${freshSalt()}","${key}":{"salt":"inner"}}`) as Record<string, unknown>;

/**
 * The router refuses a `__proto__` map key anywhere in a CALL's payload, on every serializer, with the
 * contract's invalid_argument for that call (docs/wamp-router.md): no decoder turns it into a
 * prototype and no later code can drop or obey it.
 */
const protoRefused = {
  error: "fediversity.error.invalid_argument",
  kwargs: { code: "invalid_argument", message: expect.stringContaining("__proto__") },
};

describe("2. configuration keys named __proto__, constructor, prototype", () => {
  for (const key of ["__proto__", "constructor", "prototype"]) {
    it(`json: a top-level "${key}" is refused${key === "__proto__" ? " by the router" : " with its path"}; nothing is stored`, async () => {
      const deployment = `keys_${key.replace(/_/g, "")}`;
      const failure = await attempt("json", { deployment, deployment_type: "e2e", configuration: withKey(key, false) });
      expect(failure).toMatchObject(
        key === "__proto__"
          ? protoRefused
          : { error: "fediversity.error.invalid_argument", kwargs: { code: "invalid_argument", details: [{ path: `configuration.${key}`, message: "is not allowed" }] } },
      );
      expect(await acme.fail("fediversity.deployment.get", { deployment })).toMatchObject({ error: "fediversity.error.not_found" });
    });

    it(`json: "${key}" as a keyword argument is refused${key === "__proto__" ? " by the router" : " as unknown"}`, async () => {
      const kwargs = JSON.parse(`{"deployment":"keys","deployment_type":"e2e","configuration":{"salt":"x"},"${key}":{"tenant":"beta"}}`) as Record<string, unknown>;
      expect(await attempt("json", kwargs)).toMatchObject(
        key === "__proto__" ? protoRefused : { error: "fediversity.error.invalid_argument", kwargs: { details: [{ path: key, message: "unknown keyword argument" }] } },
      );
    });
  }

  it("json: nested where the schema allows any object, constructor and prototype keys are kept in the config hash and the deployed generation", async () => {
    const salt = freshSalt();
    const text = `{"salt":"${salt}","extra":{"constructor":{"prototype":1},"prototype":[{"constructor":2}]}}`;
    const r = await submit(acme, { deployment: "open", deployment_type: "e2e-open", configuration: JSON.parse(text) });
    const plain = await submit(acme, { deployment: "open_plain", deployment_type: "e2e-open", configuration: { salt, extra: { prototype: [{}] } } });
    expect(r.sync.config_hash).not.toBe(plain.sync.config_hash);
    expect(await waitForSync(acme, "open", r.sync.sync)).toBe("succeeded");
    const db = new Database(service.config.databasePath, { readonly: true });
    try {
      const gen = db
        .prepare("SELECT g.config_hash, g.configuration FROM generations g JOIN deployments d ON d.id = g.deployment_id WHERE d.tenant = 'acme' AND d.name = 'open'")
        .get() as { config_hash: string; configuration: string };
      expect(gen.config_hash).toBe(r.sync.config_hash);
      expect(gen.configuration).toBe(`{"extra":{"constructor":{"prototype":1},"prototype":[{"constructor":2}]},"salt":"${salt}"}`);
    } finally {
      db.close();
    }
  });

  it("json: a nested \"__proto__\" is refused by the router; nothing is stored", async () => {
    const outcome = await attempt("json", { deployment: "open_proto", deployment_type: "e2e-open", configuration: withKey("__proto__", true) });
    expect(outcome).toMatchObject(protoRefused);
    expect(await acme.fail("fediversity.deployment.get", { deployment: "open_proto" })).toMatchObject({ error: "fediversity.error.not_found" });
  });

  for (const serializer of ["msgpack", "cbor"] as const) {
    for (const key of ["constructor", "prototype"]) {
      it(`${serializer}: a top-level "${key}" is refused with its path, as over JSON`, async () => {
        expect(await attempt(serializer, { deployment: "keys", deployment_type: "e2e", configuration: withKey(key, false) })).toMatchObject({
          error: "fediversity.error.invalid_argument",
          kwargs: { details: [{ path: `configuration.${key}`, message: "is not allowed" }] },
        });
      });
    }

    for (const nested of [false, true]) {
      it(`${serializer}: a ${nested ? "nested" : "top-level"} "__proto__" is refused by the router for that call; nothing is stored`, async () => {
        const deployment = `bin_${serializer}_${nested ? "nested" : "top"}`;
        expect(await attempt(serializer, { deployment, deployment_type: "e2e-open", configuration: withKey("__proto__", nested) })).toMatchObject(protoRefused);
        expect(await acme.fail("fediversity.deployment.get", { deployment })).toMatchObject({ error: "fediversity.error.not_found" });
      });
    }
  }
});

/** `levels` of nesting, the configuration itself being level 1 (objects and arrays alternating). */
function nestedConfiguration(levels: number): Record<string, unknown> {
  let v: unknown = 1;
  for (let i = 2; i < levels; i++) v = i % 2 === 0 ? [v] : { d: v };
  return { salt: freshSalt(), extra: { d: v } };
}

const limit = defaultLimits.maxConfigurationDepth;
const tooDeep = {
  error: "fediversity.error.invalid_argument",
  args: [`configuration is nested too deeply (limit: ${limit} levels)`],
  kwargs: {
    code: "invalid_argument",
    message: `configuration is nested too deeply (limit: ${limit} levels)`,
    details: [{ path: "configuration", message: `must not nest deeper than ${limit} levels` }],
  },
};

/** submit and plan of a configuration one level past the limit, and both at the limit. */
async function depthAnswers(w: Wamp, deployment: string): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const uri of ["fediversity.deployment.submit", "fediversity.deployment.plan"]) {
    answers.push(await w.fail(uri, { deployment, deployment_type: "e2e-open", configuration: nestedConfiguration(limit + 1) }));
    answers.push(await w.fail(uri, { deployment, deployment_type: "e2e-open", configuration: nestedConfiguration(limit + 20) }));
  }
  await expect(w.call("fediversity.deployment.plan", { deployment, deployment_type: "e2e-open", configuration: nestedConfiguration(limit) })).resolves.toHaveProperty("derivations");
  return answers;
}

describe("3. configuration nesting limit", () => {
  it("embedded router: past the limit, submit and plan answer invalid_argument naming it; at the limit they work", async () => {
    expect(await depthAnswers(acme, "deep")).toEqual([tooDeep, tooDeep, tooDeep, tooDeep]);
    expect(await acme.fail("fediversity.deployment.get", { deployment: "deep" })).toMatchObject({ error: "fediversity.error.not_found" });
  });

  it("component mode behind an external router: the same answer", async () => {
    const routerDir = await makeE2eDir();
    const port = await freePort();
    const ticket = randomBytes(16).toString("hex");
    const principals = join(routerDir.dir, "router-principals.json");
    await writeFile(principals, JSON.stringify([...Object.values(routerDir.principals), { authid: "fd-service", role: "service", ticket }]), { mode: 0o600 });
    const router = await startExternalRouter(port, principals);
    let component: RunningService | null = null;
    try {
      const types = join(routerDir.dir, "deployment-types.json");
      await writeTypes(types);
      component = await startInProcess(routerDir, ["--deployment-types", types, "--router-url", router.url, "--router-authid", "fd-service", `--router-ticket=${ticket}`]);
      const w = await apiUp(router.url, routerDir);
      try {
        expect(await depthAnswers(w, "deep")).toEqual([tooDeep, tooDeep, tooDeep, tooDeep]);
      } finally {
        await w.close();
      }
    } finally {
      await component?.stop();
      router.child.kill("SIGKILL");
      await router.exited;
      await routerDir.remove();
    }
  });
});

/** The embedded router alone in its own process (test/fixtures/e2e/external-router.ts), as Crossbar.io would be. */
async function startExternalRouter(port: number, principals: string): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/e2e/external-router.ts"), String(port), principals], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let out = "";
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`router did not start: ${out}`)), 30_000);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`router exited: ${out}`));
    });
  });
  return { child, url, exited };
}

/** A tenant session on the external router once the service's API answers there. */
async function apiUp(url: string, d: E2eDir): Promise<Wamp> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const w = await connectWamp(url, d.principals.acme, { timeoutMs: 5_000 });
    try {
      await w.call("fediversity.schema.get");
      return w;
    } catch (err) {
      await w.close();
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}
