/**
 * Component mode: the embedded router runs as a separate process (an external router, as
 * Crossbar.io would be), the service joins it with `--router-url/--router-authid/--router-ticket`
 * as role `service`, registers the API and publishes there; clients talk only to that router. The
 * service must register again after the router restarts, whether it went down cleanly (GOODBYE)
 * or was killed.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/main.js";
import {
  allEvents,
  connectWamp,
  freePort,
  freshSalt,
  isContiguous,
  makeE2eDir,
  sleep,
  startInProcess,
  until,
  waitForSync,
  type ApiEvent,
  type E2eDir,
  type SyncView,
  type Wamp,
} from "../helpers/e2e-service.js";
import { startRouterProcess, type RouterProcess } from "../helpers/external-router.js";

let dir: E2eDir;
let port: number;
let routerPrincipals: string;
let router: RouterProcess | null = null;
let service: RunningService | null = null;
const serviceTicket = randomBytes(16).toString("hex");

const startRouter = (): Promise<RouterProcess> => startRouterProcess(port, routerPrincipals);

async function stopRouter(signal: "SIGTERM" | "SIGKILL"): Promise<number | null> {
  const r = router;
  router = null;
  return r ? r.stop(signal) : null;
}

beforeAll(async () => {
  dir = await makeE2eDir();
  port = await freePort();
  routerPrincipals = join(dir.dir, "router-principals.json");
  const all = [...Object.values(dir.principals), { authid: "fd-service", role: "service", ticket: serviceTicket }];
  await writeFile(routerPrincipals, JSON.stringify(all), { mode: 0o600 });
  router = await startRouter();
  service = await startInProcess(dir, ["--router-url", router.url, "--router-authid", "fd-service", `--router-ticket=${serviceTicket}`]);
});

afterAll(async () => {
  await service?.stop();
  await stopRouter("SIGKILL");
  await dir?.remove();
});

/** Connects to the external router once the API answers there. */
async function apiUp(who: "acme" | "beta" | "operator"): Promise<Wamp> {
  const url = `ws://127.0.0.1:${port}/ws`;
  const deadline = Date.now() + 45_000;
  for (;;) {
    try {
      const w = await connectWamp(url, dir.principals[who], { timeoutMs: 5_000 });
      try {
        await w.call("fediversity.schema.get");
        return w;
      } catch (err) {
        await w.close();
        throw err;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

/** One sync of `tenant`, followed through the external router's broker; events checked against the store. */
async function deployThroughRouter(w: Wamp, tenant: string, deployment: string): Promise<void> {
  const heard: ApiEvent[] = [];
  await w.subscribe(`fediversity.events.${tenant}.${deployment}`, (e) => heard.push(e as ApiEvent));
  const before = await w.call<{ seq: number }>("fediversity.deployment.get", { deployment }).then((v) => v.seq, () => 0);
  const r = await w.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment, deployment_type: "e2e", configuration: { salt: freshSalt() } });
  expect(r.sync.tenant).toBe(tenant);
  expect(await waitForSync(w, deployment, r.sync.sync)).toBe("succeeded");
  const stored = (await allEvents(w, deployment)).slice(before);
  await until(() => heard.length >= stored.length, "events through the external router");
  expect(heard).toEqual(stored);
  expect(isContiguous(heard.map((e) => e.seq), before + 1)).toBe(true);
}

describe("component mode (external router process)", () => {
  it("serves the API through the external router, tenant checks included", async () => {
    const [acme, beta, operator] = await Promise.all([apiUp("acme"), apiUp("beta"), apiUp("operator")]);
    try {
      await Promise.all([deployThroughRouter(acme, "acme", "app"), deployThroughRouter(beta, "beta", "app")]);
      // The service learns callers' tenants through wamp.session.get on the external router.
      expect(await beta.fail("fediversity.deployment.get", { deployment: "app", tenant: "acme" })).toMatchObject({ error: "fediversity.error.not_authorized" });
      await expect(beta.call("fediversity.deployment.list")).resolves.toMatchObject({ deployments: [expect.objectContaining({ tenant: "beta" })] });
      await expect(beta.subscribe("fediversity.events.acme", () => {}, "prefix")).rejects.toMatchObject({ error: "wamp.error.not_authorized" });
      expect(await acme.fail("fediversity.queue.status")).toMatchObject({ error: "fediversity.error.not_authorized" });
      await expect(operator.call("fediversity.queue.status")).resolves.toHaveProperty("syncs");
    } finally {
      await Promise.all([acme.close(), beta.close(), operator.close()]);
    }
  });

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`registers again after the router restarts (${signal === "SIGKILL" ? "killed" : "clean shutdown"})`, async () => {
      const code = await stopRouter(signal);
      if (signal === "SIGTERM") expect(code).toBe(0);
      await sleep(300);
      router = await startRouter();
      const acme = await apiUp("acme");
      try {
        await deployThroughRouter(acme, "acme", "app");
      } finally {
        await acme.close();
      }
    });
  }
});
