/**
 * Publication order (docs/api.md "Topics", Guarantee): every subscriber receives one deployment's
 * events in `seq` order. Bursts of concurrent replace and enqueue submits, cancels and deletes over
 * several deployments, watched by exact-topic and prefix subscribers on json, msgpack and cbor with
 * autobahn-js and autobahn-python, in embedded mode and in component mode (the service joined to a
 * router in another process). Every subscriber must receive each deployment's events exactly as
 * `deployment.events` returns them: seq 1, 2, 3, … with no reordering, gap or duplicate.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
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
  makeE2eDir,
  repoRoot,
  sleep,
  startInProcess,
  until,
  type ApiEvent,
  type DeploymentView,
  type E2eDir,
  type SerializerName,
  type SyncView,
  type Wamp,
} from "../helpers/e2e-service.js";
import { startRouterProcess, type RouterProcess } from "../helpers/external-router.js";

const python = "/usr/bin/python3";
const pySubscriber = join(repoRoot, "test/e2e/py/subscriber.py");
const serializers: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const tenant = "acme";
const deployments = ["order_a", "order_b", "order_c", "order_d"];
const prefixTopic = `fediversity.events.${tenant}.`;
const exactTopic = (d: string) => `fediversity.events.${tenant}.${d}`;

/** What one subscription heard: per deployment, the seqs in arrival order. */
interface Heard {
  readonly name: string;
  readonly seqs: Map<string, number[]>;
}

function heard(name: string): Heard {
  return { name, seqs: new Map() };
}

function hear(h: Heard, e: { deployment: string; seq: number }): void {
  const list = h.seqs.get(e.deployment) ?? [];
  list.push(e.seq);
  h.seqs.set(e.deployment, list);
}

/** autobahn-js subscribers: per serializer, a tenant session with a prefix subscription and one with an exact subscription per deployment; a panel session with the bare tenant prefix. */
async function jsSubscribers(url: string, dir: E2eDir, sessions: Wamp[]): Promise<Heard[]> {
  const all: Heard[] = [];
  for (const serializer of serializers) {
    const prefixed = heard(`js/${serializer}/prefix`);
    const p = await connectWamp(url, dir.principals.acme, { serializer });
    sessions.push(p);
    await p.subscribe(prefixTopic, (e) => hear(prefixed, e as ApiEvent), "prefix");
    const exact = heard(`js/${serializer}/exact`);
    const x = await connectWamp(url, dir.principals.acme, { serializer });
    sessions.push(x);
    for (const d of deployments) await x.subscribe(exactTopic(d), (e) => hear(exact, e as ApiEvent), "exact");
    all.push(prefixed, exact);
  }
  const bare = heard("js/json/panel-prefix");
  const panel = await connectWamp(url, dir.principals.panel);
  sessions.push(panel);
  await panel.subscribe(`fediversity.events.${tenant}`, (e) => hear(bare, e as ApiEvent), "prefix");
  return [...all, bare];
}

/** autobahn-python subscribers: per serializer, one process with a prefix subscription and an exact one per deployment. */
async function pySubscribers(url: string, dir: E2eDir, children: ChildProcess[]): Promise<Heard[]> {
  const all: Heard[] = [];
  for (const serializer of serializers) {
    const subs: [string, string][] = [[prefixTopic, "prefix"], ...deployments.map((d): [string, string] => [exactTopic(d), "exact"])];
    const bySub = [heard(`py/${serializer}/prefix`), heard(`py/${serializer}/exact`)];
    const who = dir.principals.acme;
    const child = spawn(python, [pySubscriber, url, serializer, who.authid, who.ticket, JSON.stringify(subs)], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(child);
    let err = "";
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    await new Promise<void>((resolve, reject) => {
      let rest = "";
      const timer = setTimeout(() => reject(new Error(`python subscriber (${serializer}) not ready: ${err}`)), 30_000);
      child.stdout?.on("data", (b: Buffer) => {
        rest += b.toString();
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = JSON.parse(rest.slice(0, nl)) as { type: string; sub?: number; deployment?: string; seq?: number };
          rest = rest.slice(nl + 1);
          if (line.type === "ready") {
            clearTimeout(timer);
            resolve();
          } else if (line.type === "event" && line.sub !== undefined) {
            const h = bySub[Math.min(line.sub, 1)];
            if (h) hear(h, { deployment: String(line.deployment), seq: Number(line.seq) });
          }
        }
      });
      child.once("exit", (code) => reject(new Error(`python subscriber (${serializer}) exited ${code}: ${err}`)));
    });
    all.push(...bySub);
  }
  return all;
}

/**
 * Three replace and two enqueue submits per deployment at once; then, at once again: every queued
 * sync cancelled one by one (several cancels of one deployment commit back to back), a delete, more
 * submits.
 */
async function burst(panel: Wamp): Promise<void> {
  const submit = (deployment: string, mode: "replace" | "enqueue") =>
    panel.call<{ sync: SyncView }>("fediversity.deployment.submit", {
      tenant,
      deployment,
      deployment_type: "e2e",
      mode,
      configuration: { salt: freshSalt(), lines: 3 },
    });
  const cancel = (deployment: string, sync?: string) => panel.call("fediversity.deployment.cancel", { tenant, deployment, ...(sync ? { sync } : {}) });
  const [a, b, c, d] = deployments as [string, string, string, string];
  const first = await Promise.all(deployments.flatMap((dep) => (["replace", "replace", "replace", "enqueue", "enqueue"] as const).map((mode) => submit(dep, mode))));
  await sleep(300);
  const enqueued = (dep: string) => first.filter((r) => r.sync.deployment === dep && r.sync.mode === "enqueue").map((r) => r.sync.sync);
  await Promise.all([
    ...[a, c, d].flatMap((dep) => enqueued(dep).map((sync) => cancel(dep, sync))),
    panel.call("fediversity.deployment.delete", { tenant, deployment: b, mode: "enqueue" }),
    cancel(d),
    submit(c, "replace"),
    submit(c, "enqueue"),
    submit(a, "enqueue"),
  ]);
}

async function quiet(panel: Wamp): Promise<void> {
  await until(
    async () => {
      const views = await Promise.all(deployments.map((deployment) => panel.call<DeploymentView>("fediversity.deployment.get", { tenant, deployment })));
      return views.every((v) => v.current === null && (v.queue ?? []).length === 0);
    },
    "every deployment idle",
    180_000,
  );
}

/** Every subscription heard each deployment's stored events, exactly in seq order. */
async function expectSeqOrder(panel: Wamp, subscribers: readonly Heard[]): Promise<void> {
  const stored = new Map<string, number[]>();
  for (const d of deployments) stored.set(d, (await allEvents(panel, d, tenant)).map((e) => e.seq));
  const complete = () => subscribers.every((h) => deployments.every((d) => (h.seqs.get(d)?.length ?? 0) >= (stored.get(d)?.length ?? 0)));
  await until(complete, "every subscriber has every event", 30_000).catch(() => undefined);
  const problems: string[] = [];
  for (const d of deployments) {
    const want = stored.get(d) ?? [];
    expect(want, `${d}: the store's seqs`).toEqual(want.map((_, i) => i + 1));
    expect(want.length, `${d}: events stored`).toBeGreaterThan(10);
    for (const h of subscribers) {
      const got = h.seqs.get(d) ?? [];
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${h.name} ${d}: ${departure(got, want.length)}`);
    }
  }
  expect(problems).toEqual([]);
}

/** Where a received sequence first departs from 1..n. */
function departure(got: readonly number[], n: number): string {
  const i = got.findIndex((s, k) => s !== k + 1);
  if (i < 0) return `${got.length} of ${n} events, in order`;
  return `${got.length} of ${n} events; from #${i}: [${got.slice(Math.max(0, i - 2), i + 8).join(", ")}]`;
}

interface Setup {
  readonly url: string;
  stop(): Promise<void>;
}

async function embedded(dir: E2eDir): Promise<Setup> {
  const service: RunningService = await startInProcess(dir);
  return { url: service.url, stop: () => service.stop() };
}

async function component(dir: E2eDir): Promise<Setup> {
  const serviceTicket = randomBytes(16).toString("hex");
  const principalsPath = join(dir.dir, "router-principals.json");
  await writeFile(principalsPath, JSON.stringify([...Object.values(dir.principals), { authid: "fd-service", role: "service", ticket: serviceTicket }]), { mode: 0o600 });
  const router: RouterProcess = await startRouterProcess(await freePort(), principalsPath);
  const service = await startInProcess(dir, ["--router-url", router.url, "--router-authid", "fd-service", `--router-ticket=${serviceTicket}`]);
  return {
    url: router.url,
    async stop() {
      await service.stop();
      await router.stop("SIGKILL");
    },
  };
}

for (const [mode, start] of [["embedded", embedded], ["component", component]] as const) {
  describe.skipIf(!existsSync(python))(`events reach every subscriber in seq order (${mode} mode)`, () => {
    let dir: E2eDir;
    let setup: Setup;
    const sessions: Wamp[] = [];
    const children: ChildProcess[] = [];
    beforeAll(async () => {
      dir = await makeE2eDir();
      setup = await start(dir);
    });
    afterAll(async () => {
      for (const c of children) c.stdin?.end();
      await Promise.all(sessions.map((s) => s.close()));
      await setup?.stop();
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
      await dir?.remove();
    });

    it("under bursts of submits, cancels and deletes, on json, msgpack and cbor, autobahn-js and autobahn-python", { timeout: 300_000 }, async () => {
      const subscribers = [...(await jsSubscribers(setup.url, dir, sessions)), ...(await pySubscribers(setup.url, dir, children))];
      const panel = await connectWamp(setup.url, dir.principals.panel);
      sessions.push(panel);
      await burst(panel);
      await burst(panel);
      await quiet(panel);
      await expectSeqOrder(panel, subscribers);
    });
  });
}
