/**
 * A small in-memory DeploymentService for the API's integration tests: every submit runs a short
 * scripted sync (evaluating → building with two derivations → deploying → succeeded), storing each
 * event before publishing it, and writing build and deploy log lines.
 */
import { AppError } from "../../src/errors.js";
import type { DeploymentService, FollowLogsInput } from "../../src/service/port.js";
import type { EventPublisher } from "../../src/api/publisher.js";
import type {
  BuildView,
  DeploymentEvent,
  DeploymentView,
  EventType,
  LogLine,
  LogsResult,
  SubmitResult,
  SyncView,
} from "../../src/core/index.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MSync = Mutable<Omit<SyncView, "build">> & { build: Mutable<BuildView> | null };
type MView = Mutable<Omit<DeploymentView, "queue" | "current" | "last">> & {
  queue: MSync[];
  current: MSync | null;
  last: MSync | null;
};
import { isTerminalSyncState } from "../../src/core/index.js";

interface Deployment {
  view: MView;
  events: DeploymentEvent[];
  syncs: Map<string, { view: MSync; logs: LogLine[]; requestId: string | undefined }>;
}

export interface MemoryServiceOptions {
  /** Milliseconds between scripted steps (default 30). */
  readonly stepMs?: number;
  /** Configurations with `fail: true` fail their build; with `hold: true` they never finish. */
  readonly publisher?: EventPublisher;
}

export function createMemoryService(options: MemoryServiceOptions = {}) {
  const stepMs = options.stepMs ?? 30;
  const deployments = new Map<string, Deployment>();
  const listeners = new Set<() => void>();
  let counter = 0;
  /** followLogs calls running right now (to see that they end when their caller leaves). */
  const stats = { activeFollows: 0 };
  const now = () => new Date().toISOString();
  const key = (tenant: string, deployment: string) => `${tenant}/${deployment}`;
  const newId = () => `01JTEST${String(++counter).padStart(19, "0")}`;

  function find(tenant: string, deployment: string): Deployment {
    const d = deployments.get(key(tenant, deployment));
    if (!d) throw new AppError("not_found", `no deployment ${tenant}/${deployment}`);
    return d;
  }

  function record(d: Deployment, sync: string | null, type: EventType, data: Record<string, unknown> = {}): void {
    const event: DeploymentEvent = {
      seq: d.view.seq + 1,
      tenant: d.view.tenant,
      deployment: d.view.deployment,
      sync,
      type,
      at: now(),
      data,
    };
    d.view.seq = event.seq;
    d.events.push(event);
    void options.publisher?.publishEvent(event);
    listeners.forEach((l) => l());
  }

  function log(d: Deployment, sync: string, source: "build" | "deploy", text: string): void {
    const s = d.syncs.get(sync);
    if (!s) return;
    const line: LogLine = { line: s.logs.length, source, derivation: null, text };
    s.logs.push(line);
    void options.publisher?.publishLogs(d.view.tenant, d.view.deployment, sync, [line]);
    listeners.forEach((l) => l());
  }

  function setState(d: Deployment, sync: MSync, to: SyncView["state"]): void {
    const from = sync.state;
    sync.state = to;
    if (to !== "queued" && sync.started_at === null) sync.started_at = now();
    record(d, sync.sync, "sync.state", { from, to });
  }

  async function run(d: Deployment, sync: MSync, fail: boolean, hold: boolean): Promise<void> {
    const step = () => new Promise((r) => setTimeout(r, stepMs));
    d.view.current = sync;
    d.view.queue = [];
    sync.position = 0;
    await step();
    setState(d, sync, "evaluating");
    await step();
    setState(d, sync, "building");
    sync.build = { build_id: `b-${sync.sync}`, total: 2, completed: 0, cached: 0, running: 0, failed: 0, queued: 2, critical_path_remaining_secs: 2 };
    record(d, sync.sync, "build.submitted", { build_id: sync.build.build_id });
    record(d, sync.sync, "build.started", { total: 2, cached: 0 });
    if (hold) {
      log(d, sync.sync, "build", "holding");
      return; // stays building for good
    }
    for (const pname of ["ruby", "app"]) {
      const drv = `/nix/store/${"a".repeat(32)}-${pname}.drv`;
      record(d, sync.sync, "derivation", { drv, pname, kind: "started" });
      log(d, sync.sync, "build", `building ${pname}`);
      await step();
      if (fail && pname === "app") {
        record(d, sync.sync, "derivation", { drv, pname, kind: "failed", error: "exit 1" });
        sync.state = "failed";
        sync.finished_at = now();
        sync.position = null;
        sync.error = { code: "build_failed", message: "app failed", derivation: drv };
        d.view.current = null;
        d.view.last = sync;
        record(d, sync.sync, "sync.finished", { state: "failed", error: sync.error });
        return;
      }
      record(d, sync.sync, "derivation", { drv, pname, kind: "completed" });
      sync.build.completed += 1;
      sync.build.queued -= 1;
      record(d, sync.sync, "build.progress", { ...sync.build });
    }
    setState(d, sync, "deploying");
    const before = d.view.state;
    d.view.state = "deploying";
    record(d, null, "deployment.state", { from: before, to: "deploying", generation: d.view.generation });
    record(d, sync.sync, "deploy.started");
    log(d, sync.sync, "deploy", "activating");
    await step();
    log(d, sync.sync, "deploy", "done");
    record(d, sync.sync, "deploy.finished");
    d.view.generation = (d.view.generation ?? 0) + 1;
    d.view.state = "active";
    sync.state = "succeeded";
    sync.finished_at = now();
    sync.position = null;
    d.view.current = null;
    d.view.last = sync;
    record(d, sync.sync, "sync.finished", { state: "succeeded", error: null });
    record(d, null, "deployment.state", { from: "deploying", to: "active", generation: d.view.generation });
  }

  const service: DeploymentService = {
    async submit(input): Promise<SubmitResult> {
      const k = key(input.tenant, input.deployment);
      let d = deployments.get(k);
      if (!d) {
        d = {
          view: {
            deployment: input.deployment,
            tenant: input.tenant,
            deployment_type: input.deploymentType ?? input.deployment,
            state: "idle",
            generation: 0,
            seq: 0,
            current: null,
            queue: [],
            last: null,
            created_at: now(),
            updated_at: now(),
          },
          events: [],
          syncs: new Map(),
        };
        deployments.set(k, d);
      }
      for (const s of d.syncs.values()) {
        if (input.requestId !== undefined && s.requestId === input.requestId) return { sync: s.view, superseded: [] };
      }
      const sync: MSync = {
        sync: newId(),
        deployment: input.deployment,
        tenant: input.tenant,
        kind: "apply",
        state: "queued",
        mode: input.mode,
        priority: input.priority,
        position: 0,
        submitted_at: now(),
        started_at: null,
        finished_at: null,
        config_hash: "sha256:test",
        build: null,
        error: null,
        superseded_by: null,
      };
      d.syncs.set(sync.sync, { view: sync, logs: [], requestId: input.requestId });
      d.view.queue.push(sync);
      record(d, sync.sync, "sync.queued", { kind: "apply" });
      void run(d, sync, input.configuration["fail"] === true, input.configuration["hold"] === true);
      return { sync: structuredClone(sync), superseded: [] };
    },
    async plan() {
      return { derivations: 2, to_build: 2, cached: 0, nodes: [] };
    },
    async get(input) {
      const { queue, ...rest } = find(input.tenant, input.deployment).view;
      return structuredClone({ ...rest, queue });
    },
    async list(input) {
      const all = [...deployments.values()]
        .map((d) => d.view)
        .filter((v) => input.tenant === null || v.tenant === input.tenant)
        .map(({ queue: _queue, ...rest }) => structuredClone(rest));
      return { deployments: all.slice(0, input.limit), next_cursor: null };
    },
    async cancel(input) {
      find(input.tenant, input.deployment);
      return { cancelled: [], refused: [] };
    },
    async delete() {
      throw new AppError("failed_precondition", "not supported by the memory service");
    },
    async rollback() {
      throw new AppError("conflict", "no earlier generation");
    },
    async events(input) {
      const d = find(input.tenant, input.deployment);
      const after = d.events.filter((e) => e.seq > input.since);
      const page = after.slice(0, input.limit);
      return { events: structuredClone(page), next: page.at(-1)?.seq ?? input.since, more: after.length > page.length };
    },
    async logs(input): Promise<LogsResult> {
      const d = find(input.tenant, input.deployment);
      const s = d.syncs.get(input.sync);
      if (!s) throw new AppError("not_found", `no sync ${input.sync}`);
      const lines = s.logs.slice(input.sinceLine, input.sinceLine + input.limit);
      const next = input.sinceLine + lines.length;
      return { lines, next_line: next, complete: isTerminalSyncState(s.view.state) && next >= s.logs.length };
    },
    async *followLogs(input: FollowLogsInput) {
      let since = input.sinceLine;
      stats.activeFollows += 1;
      try {
        yield* follow();
      } finally {
        stats.activeFollows -= 1;
      }
      async function* follow() {
      while (!input.signal.aborted) {
        const page = await service.logs({ ...input, sinceLine: since });
        since = page.next_line;
        yield page;
        if (page.complete) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            listeners.delete(wake);
            input.signal.removeEventListener("abort", wake);
            resolve();
          };
          listeners.add(wake);
          input.signal.addEventListener("abort", wake, { once: true });
        });
      }
      }
    },
    async graph() {
      return { nodes: [], edges: [], truncated: false };
    },
    async schema(input) {
      if (input.deploymentType !== undefined && input.deploymentType !== "mastodon") {
        throw new AppError("not_found", `no deployment type ${input.deploymentType}`);
      }
      return { deployment_types: { mastodon: { description: "Mastodon", schema: { type: "object" } } } };
    },
    async queueStatus() {
      return { syncs: { queued: 0, evaluating: 0, building: 0, deploying: 0 }, scheduler: { workers: 1 } };
    },
  };
  return Object.assign(service, { stats });
}
