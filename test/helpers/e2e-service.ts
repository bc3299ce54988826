/**
 * Test-only harness of the end-to-end API tests (test/e2e/): the real service (store, local
 * scheduler, evaluator, local deployer, runner, router, API) on port 0 with a temp data dir and the
 * e2e deployment type (test/fixtures/e2e/), in this process or as a child process, plus
 * autobahn-js sessions for two tenants, a panel and an operator.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autobahn from "autobahn";
import { parseServiceConfig } from "../../src/config.js";
import { startService, type RunningService } from "../../src/main.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const e2eTypesPath = join(repoRoot, "test/fixtures/e2e/deployment-types.json");

export function freshSalt(): string {
  return randomBytes(6).toString("hex");
}

export interface Principal {
  readonly authid: string;
  readonly role: string;
  readonly tenant?: string;
  readonly ticket: string;
}

export type Who = "acme" | "beta" | "panel" | "operator";

/** Two tenants (acme, beta), a panel and an operator, each with a fresh ticket. */
export function makePrincipals(): Record<Who, Principal> {
  const t = () => randomBytes(12).toString("hex");
  return {
    acme: { authid: "acme-admin", role: "tenant", tenant: "acme", ticket: t() },
    beta: { authid: "beta-admin", role: "tenant", tenant: "beta", ticket: t() },
    panel: { authid: "panel", role: "panel", ticket: t() },
    operator: { authid: "operator", role: "operator", ticket: t() },
  };
}

export interface E2eDir {
  readonly dir: string;
  readonly dataDir: string;
  readonly principalsPath: string;
  readonly principals: Record<Who, Principal>;
  remove(): Promise<void>;
}

export async function makeE2eDir(): Promise<E2eDir> {
  const dir = await mkdtemp(join(tmpdir(), "e2e-"));
  const principals = makePrincipals();
  const principalsPath = join(dir, "principals.json");
  await writeFile(principalsPath, JSON.stringify(Object.values(principals), null, 2), { mode: 0o600 });
  return {
    dir,
    dataDir: join(dir, "data"),
    principalsPath,
    principals,
    remove: () => rm(dir, { recursive: true, force: true }).catch(() => undefined),
  };
}

export function serviceArgs(d: E2eDir, extra: readonly string[] = []): string[] {
  return [
    "--data-dir", d.dataDir,
    "--principals", d.principalsPath,
    "--deployment-types", e2eTypesPath,
    "--listen", "127.0.0.1:0",
    "--log-level", "error",
    ...extra,
  ];
}

/** The service in this process (`startService(parseServiceConfig(argv))`). */
export async function startInProcess(d: E2eDir, extra: readonly string[] = []): Promise<RunningService> {
  return startService(parseServiceConfig(serviceArgs(d, extra), {}));
}

export { spawnService, type ChildService } from "./service-process.js";

export { freePort } from "./processes.js";

// ---------------------------------------------------------------------------------------------
// WAMP clients (autobahn-js 22)

export type SerializerName = "json" | "msgpack" | "cbor";

function abSerializer(name: SerializerName): unknown {
  // autobahn 22's typings predate its serializer classes.
  const ser = (autobahn as unknown as { serializer: Record<string, new () => unknown> }).serializer;
  if (name === "json") return new ser.JSONSerializer!();
  if (name === "msgpack") return new ser.MsgpackSerializer!();
  return new ser.CBORSerializer!();
}

/** The WAMP error a failed call rejected with. */
export interface WampFailure {
  readonly error: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
}

export interface Wamp {
  readonly session: autobahn.Session;
  readonly principal: Principal;
  /** Calls with keyword arguments only; resolves to `args[0]`. */
  call<T = Record<string, unknown>>(uri: string, kwargs?: Record<string, unknown>): Promise<T>;
  /** Resolves to the WAMP error of a call expected to fail (throws if it succeeds). */
  fail(uri: string, kwargs?: Record<string, unknown>): Promise<WampFailure>;
  /** Subscribes; `handler` gets `args[0]`. Rejects with the WAMP error when refused. */
  subscribe(topic: string, handler: (payload: unknown) => void, match?: "exact" | "prefix" | "wildcard"): Promise<autobahn.ISubscription>;
  /** Resolves when the connection closes for good. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export function firstArg(result: unknown): unknown {
  if (result instanceof autobahn.Result) return result.args[0];
  return result;
}

export interface ConnectOptions {
  readonly serializer?: SerializerName;
  /** Retry after a lost connection (and until the first connect succeeds); `onReopen` runs each time. */
  readonly reconnect?: boolean;
  readonly onReopen?: (session: autobahn.Session) => void;
  readonly timeoutMs?: number;
}

export function connectWamp(url: string, principal: Principal, options: ConnectOptions = {}): Promise<Wamp> {
  (autobahn.log as unknown as { warn: () => void; debug: () => void }).warn = () => {};
  const reconnect = options.reconnect ?? false;
  return new Promise((resolve, reject) => {
    let current: autobahn.Session | null = null;
    let opened = false;
    let closedByUs = false;
    let markClosed: () => void = () => {};
    const closed = new Promise<void>((r) => (markClosed = r));
    const connection = new autobahn.Connection({
      url,
      realm: "fediversity",
      authmethods: ["ticket"],
      authid: principal.authid,
      onchallenge: () => principal.ticket,
      serializers: [abSerializer(options.serializer ?? "json")],
      max_retries: reconnect ? -1 : 0,
      retry_if_unreachable: reconnect,
      initial_retry_delay: 0.2,
      max_retry_delay: 1,
      retry_delay_growth: 1.2,
      on_user_error: () => {},
      on_internal_error: () => {},
    } as autobahn.IConnectionOptions);
    const timer = setTimeout(() => {
      if (!opened) {
        closedByUs = true;
        connection.close();
        reject(new Error(`could not connect to ${url} as ${principal.authid}`));
      }
    }, options.timeoutMs ?? 20_000);
    const wamp: Wamp = {
      get session() {
        if (!current) throw new Error("not connected");
        return current;
      },
      principal,
      async call<T>(uri: string, kwargs: Record<string, unknown> = {}) {
        return firstArg(await wamp.session.call(uri, [], kwargs)) as T;
      },
      async fail(uri, kwargs = {}) {
        let result: unknown;
        try {
          result = await wamp.session.call(uri, [], kwargs);
        } catch (err) {
          const e = err as { error?: string; args?: unknown[]; kwargs?: Record<string, unknown> };
          if (typeof e.error !== "string") throw err;
          return { error: e.error, args: e.args ?? [], kwargs: e.kwargs ?? {} };
        }
        throw new Error(`${uri} ${JSON.stringify(kwargs).slice(0, 200)} succeeded: ${JSON.stringify(firstArg(result)).slice(0, 300)}`);
      },
      async subscribe(topic, handler, match = "exact") {
        return wamp.session.subscribe(topic, (args) => handler(Array.isArray(args) ? args[0] : undefined), { match });
      },
      closed,
      async close() {
        closedByUs = true;
        if (connection.isOpen) connection.close();
        else markClosed();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
      },
    };
    connection.onopen = (session) => {
      current = session;
      if (!opened) {
        opened = true;
        clearTimeout(timer);
        resolve(wamp);
      } else {
        options.onReopen?.(session);
      }
    };
    connection.onclose = (_reason, details) => {
      current = null;
      const willRetry = (details as { will_retry?: boolean } | undefined)?.will_retry === true;
      if (opened && reconnect && !closedByUs && !willRetry) {
        // autobahn-js stops retrying after the router said GOODBYE (a clean shutdown): open again.
        setTimeout(() => {
          if (!closedByUs) connection.open();
        }, 200);
        return true;
      }
      if (closedByUs || !willRetry || !reconnect) {
        markClosed();
        if (!opened) {
          clearTimeout(timer);
          reject(new Error(`connection to ${url} as ${principal.authid} failed: ${JSON.stringify(details)}`));
        }
        return true;
      }
      return false;
    };
    connection.open();
  });
}

// ---------------------------------------------------------------------------------------------
// API shapes (docs/api.md) and waiting

// The API's shapes come from core, as the service returns them.
export type { DeploymentEvent as ApiEvent, DeploymentView, LogLine, SyncView } from "../../src/core/index.js";
import type { DeploymentEvent as ApiEvent } from "../../src/core/index.js";

export const terminalStates = ["succeeded", "failed", "cancelled", "superseded", "timed_out"];

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every stored event of a deployment after `since` (pages through `deployment.events`). */
export async function allEvents(w: Wamp, deployment: string, tenant?: string, since = 0): Promise<ApiEvent[]> {
  const out: ApiEvent[] = [];
  let next = since;
  for (;;) {
    const page = await w.call<{ events: ApiEvent[]; next: number; more: boolean }>("fediversity.deployment.events", {
      deployment,
      since: next,
      limit: 1000,
      ...(tenant ? { tenant } : {}),
    });
    out.push(...page.events);
    next = page.next;
    if (!page.more) return out;
  }
}

/** The sync's state according to its stored events. */
export function syncState(events: readonly ApiEvent[], sync: string): string | null {
  let state: string | null = null;
  for (const e of events) {
    if (e.sync !== sync) continue;
    if (e.type === "sync.queued") state = "queued";
    else if (e.type === "sync.state") state = String(e.data["to"]);
    else if (e.type === "sync.finished") state = String(e.data["state"]);
  }
  return state;
}

/** Polls the stored events until the sync is in one of `states` (or terminal); returns its state. */
export async function waitForSync(w: Wamp, deployment: string, sync: string, states: readonly string[] = terminalStates, opts: { tenant?: string; timeoutMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let seen: string | null = null;
  while (Date.now() < deadline) {
    seen = syncState(await allEvents(w, deployment, opts.tenant), sync);
    if (seen !== null && (states.includes(seen) || terminalStates.includes(seen))) return seen;
    await sleep(150);
  }
  throw new Error(`sync ${sync} of ${deployment} did not reach ${states.join("|")} (last ${seen})`);
}

/** Waits until `pred()` is true (polling), or throws after `timeoutMs`. */
export async function until(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Asserts `seqs` is exactly 1..n (or from..n): no gap, no duplicate, in order. */
export function isContiguous(seqs: readonly number[], from = 1): boolean {
  return seqs.every((s, i) => s === from + i);
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}
