/**
 * Test-only: runs the whole service (store, local scheduler, evaluator, deployers, runner, embedded
 * router, API) on a temp data dir with the engine test deployment type
 * (test/fixtures/engine/), in this process or as a child process, and talks to it over WAMP with
 * the CLI's client.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autobahn from "autobahn";
import { connect, type Client } from "../../src/cli/client.js";
import { parseServiceConfig } from "../../src/config.js";
import { startService, type RunningService } from "../../src/main.js";
import { materializeFixtureTypes } from "./fixture-types.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const fixtureDir = join(repoRoot, "test/fixtures/engine");

export function freshSalt(): string {
  return randomBytes(6).toString("hex");
}

export interface EngineConfiguration {
  salt: string;
  label?: string;
  eval_sleep_secs?: number;
  build_sleep_secs?: number;
  activate_sleep_secs?: number;
  fail_eval?: boolean;
  fail_build?: boolean;
  fail_activate?: boolean;
  parts?: number;
  part_system?: string;
}

/**
 * Writes the fixture's deployment-types file into `dir` with an absolute entry path and its
 * secret pointing at a fresh temp file; returns the file's path.
 */
export function materializeDeploymentTypes(dir: string): Promise<{ typesPath: string; secret: string }> {
  return materializeFixtureTypes(fixtureDir, dir, { file: "engine-token", value: `engine-secret-${freshSalt()}` });
}

export interface Principal {
  readonly authid: string;
  readonly role: string;
  readonly tenant?: string;
  readonly ticket: string;
}

export async function readPrincipals(dataDir: string): Promise<Principal[]> {
  return JSON.parse(await readFile(join(dataDir, "principals.json"), "utf8")) as Principal[];
}

// The API's shapes come from core, as the service returns them.
export type { DeploymentEvent as ApiEvent } from "../../src/core/index.js";
import type { DeploymentEvent as ApiEvent, DeploymentView, SyncView } from "../../src/core/index.js";

export interface SubmitOptions {
  mode?: "replace" | "enqueue";
  request_id?: string;
  priority?: string;
}

/** A WAMP session (the CLI's client) acting for one tenant, with the API's calls typed loosely. */
export interface EngineClient {
  readonly client: Client;
  readonly tenant: string;
  submit(deployment: string, configuration: EngineConfiguration, opts?: SubmitOptions): Promise<{ sync: SyncView; superseded: string[] }>;
  get(deployment: string): Promise<DeploymentView>;
  cancel(deployment: string, sync?: string): Promise<{ cancelled: string[]; refused: { sync: string; reason: string }[] }>;
  remove(deployment: string, opts?: SubmitOptions): Promise<{ sync: SyncView; superseded: string[] }>;
  rollback(deployment: string, generation?: number): Promise<{ sync: SyncView; superseded: string[] }>;
  /** Every stored event of the deployment (pages through `deployment.events`). */
  allEvents(deployment: string, since?: number): Promise<ApiEvent[]>;
  /** Published events received so far, per deployment. */
  readonly published: Map<string, ApiEvent[]>;
  /** Waits until an event of the deployment matches `pred`; returns it. */
  waitForEvent(deployment: string, pred: (e: ApiEvent) => boolean, timeoutMs?: number): Promise<ApiEvent>;
  /** Waits until the sync has a `sync.finished` event (or is in one of `states`); returns its state. */
  waitForState(deployment: string, sync: string, states: readonly string[], timeoutMs?: number): Promise<string>;
  close(): void;
}

export const terminalStates = ["succeeded", "failed", "cancelled", "superseded", "timed_out"] as const;

/** The state of `sync` according to an event log. */
export function syncStateFrom(events: readonly ApiEvent[], sync: string): string | null {
  let state: string | null = null;
  for (const e of events) {
    if (e.sync !== sync) continue;
    if (e.type === "sync.queued") state = "queued";
    else if (e.type === "sync.state") state = String(e.data.to);
  }
  return state;
}

export async function openClient(url: string, principal: Principal, tenant: string): Promise<EngineClient> {
  (autobahn.log as unknown as { warn: () => void }).warn = () => {};
  const client = await connect({ url, realm: "fediversity", authid: principal.authid, ticket: principal.ticket, reconnect: false, connectTimeoutSecs: 10 });
  const published = new Map<string, ApiEvent[]>();
  await client.subscribe(
    `fediversity.events.${tenant}.`,
    (payload) => {
      const e = payload as ApiEvent;
      const list = published.get(e.deployment) ?? [];
      list.push(e);
      published.set(e.deployment, list);
    },
    "prefix",
  );
  const call = <T>(uri: string, kwargs: Record<string, unknown>) => client.call<T>(`fediversity.${uri}`, { tenant, ...kwargs });
  const allEvents = async (deployment: string, since = 0): Promise<ApiEvent[]> => {
    const out: ApiEvent[] = [];
    let next = since;
    for (;;) {
      const page = await call<{ events: ApiEvent[]; next: number; more: boolean }>("deployment.events", { deployment, since: next, limit: 1000 });
      out.push(...page.events);
      next = page.next;
      if (!page.more) return out;
    }
  };
  return {
    client,
    tenant,
    published,
    submit: (deployment, configuration, opts = {}) => call("deployment.submit", { deployment, configuration, deployment_type: "engine", ...opts }),
    get: (deployment) => call("deployment.get", { deployment }),
    cancel: (deployment, sync) => call("deployment.cancel", { deployment, ...(sync ? { sync } : {}) }),
    remove: (deployment, opts = {}) => call("deployment.delete", { deployment, ...opts }),
    rollback: (deployment, generation) => call("deployment.rollback", { deployment, ...(generation !== undefined ? { generation } : {}) }),
    allEvents,
    async waitForEvent(deployment, pred, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = (await allEvents(deployment)).find(pred);
        if (found) return found;
        await sleep(100);
      }
      throw new Error(`no matching event of ${deployment} within ${timeoutMs} ms`);
    },
    async waitForState(deployment, sync, states, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      let seen: string | null = null;
      while (Date.now() < deadline) {
        const events = await allEvents(deployment);
        seen = syncStateFrom(events, sync);
        if (seen !== null && (states.includes(seen) || (terminalStates as readonly string[]).includes(seen))) return seen;
        await sleep(100);
      }
      throw new Error(`sync ${sync} of ${deployment} did not reach ${states.join("|")} within ${timeoutMs} ms (last state ${seen})`);
    },
    close: () => client.close(),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface InProcessEngine {
  readonly dir: string;
  readonly dataDir: string;
  readonly service: RunningService;
  readonly secret: string;
  /** A session of `role` (default panel) acting for `tenant` (default acme). */
  client(tenant?: string, role?: string): Promise<EngineClient>;
  /** The deployment's target dir (where bin/activate writes). */
  targetDir(tenant: string, deployment: string): string;
  /** Stops the service; `keep` leaves the data dir for a restart with `startEngine({ reuse })`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

/** Starts the service in this process: `startService(parseServiceConfig([...], env))`. */
export async function startEngine(
  options: { env?: Record<string, string>; rioUrl?: string; extraArgs?: string[]; /** Restart on this engine's dir (after `stop({ keep: true })`). */ reuse?: InProcessEngine } = {},
): Promise<InProcessEngine> {
  const dir = options.reuse?.dir ?? (await mkdtemp(join(tmpdir(), "engine-")));
  const dataDir = join(dir, "data");
  const { typesPath, secret } = options.reuse
    ? { typesPath: join(dir, "deployment-types.json"), secret: options.reuse.secret }
    : await materializeDeploymentTypes(dir);
  const argv = [
    "--data-dir", dataDir,
    "--listen", "127.0.0.1:0",
    "--deployment-types", typesPath,
    "--log-level", "error",
    ...(options.rioUrl ? ["--rio-url", options.rioUrl] : []),
    ...(options.extraArgs ?? []),
  ];
  const service = await startService(parseServiceConfig(argv, { ...options.env }));
  const principals = await readPrincipals(dataDir);
  const clients: EngineClient[] = [];
  return {
    dir,
    dataDir,
    service,
    secret,
    async client(tenant = "acme", role = "panel") {
      const principal = principals.find((p) => p.role === role);
      if (!principal) throw new Error(`no ${role} principal`);
      const c = await openClient(service.url, principal, tenant);
      clients.push(c);
      return c;
    },
    targetDir: (tenant, deployment) => join(dataDir, "targets", tenant, deployment),
    async stop(opts = {}) {
      for (const c of clients) c.close();
      await service.stop();
      if (!opts.keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export { spawnService, type ChildService } from "./service-process.js";

export { killProcessesMarked } from "./processes.js";
