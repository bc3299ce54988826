/**
 * The application service behind the WAMP edge: implements the port (port.ts) over the store, the
 * runner, the evaluator and rio. Inputs arrive validated and tenant-resolved; this layer applies the
 * deployment-type rules (which type, does the configuration match its schema), wakes the runner,
 * stops interrupted syncs, and passes on what the store committed (CommitFeed) for the API to publish.
 */
import type { GraphResult, LogsResult, QueueStatusResult, SchemaResult } from "../core/index.js";
import { AppError } from "../errors.js";
import type { DeploymentTypes, Evaluator } from "../eval/index.js";
import { validateConfiguration } from "../eval/index.js";
import type { RioClient } from "../rio/index.js";
import type { Runner } from "../runner/runner.js";
import type { Store } from "../store/index.js";
import { createTypeResolver } from "./deployment-type.js";
import { committedLogLines, followLogLines } from "./log-follower.js";
import type { CommitFeed, DeploymentService } from "./port.js";
import { createSubmitBatch } from "./submit-batch.js";
import { createWebhookOperations, type WebhookDeps } from "./webhook-operations.js";

export interface DeploymentServiceDeps {
  readonly store: Store;
  readonly runner: Runner;
  readonly evaluator: Evaluator;
  readonly rio: RioClient;
  readonly deploymentTypes: DeploymentTypes;
  readonly evalTimeoutMs: number;
  /** URL rules and secret sealing for `webhook.create`. */
  readonly webhooks: Omit<WebhookDeps, "store">;
}

export function createDeploymentService(deps: DeploymentServiceDeps): DeploymentService & CommitFeed & { close(): void } {
  const { store, runner } = deps;
  const committedLogs = committedLogLines(store);
  const resolveType = createTypeResolver(deps.deploymentTypes, store);
  const submitAndWake = createSubmitBatch(store, runner);

  return {
    close: committedLogs.close,
    onCommit: (listener) => store.onCommit(listener),
    ...createWebhookOperations({ store, ...deps.webhooks }),

    async submit(input) {
      const type = resolveType(input.tenant, input.deployment, input.deploymentType);
      validateConfiguration(type, input.configuration);
      return submitAndWake({
        tenant: input.tenant,
        deployment: input.deployment,
        deploymentType: type.name,
        kind: "apply",
        mode: input.mode,
        priority: input.priority,
        configuration: input.configuration,
        ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
      });
    },

    async plan(input) {
      const type = resolveType(input.tenant, input.deployment, input.deploymentType);
      // A configuration that passed its schema but does not evaluate: EvalFailedError, invalid_argument.
      const plan = await deps.evaluator.plan(type, input.configuration, { timeoutMs: Math.min(type.eval.timeoutMs, deps.evalTimeoutMs) });
      return { derivations: plan.derivations, to_build: plan.to_build, cached: plan.cached, nodes: [...plan.nodes] };
    },

    async get(input) {
      return store.getDeployment(input.tenant, input.deployment);
    },

    async list(input) {
      const page = store.listDeployments({
        limit: input.limit,
        ...(input.tenant !== null ? { tenant: input.tenant } : {}),
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
      });
      return { deployments: page.deployments.map(({ queue: _queue, ...rest }) => rest), next_cursor: page.next_cursor };
    },

    async cancel(input) {
      const result = store.cancelSyncs({
        tenant: input.tenant,
        deployment: input.deployment,
        ...(input.sync !== undefined ? { sync: input.sync } : {}),
        ...(input.reason !== undefined ? { reason: input.reason } : {}),
      });
      if (result.interrupted.length > 0) runner.interrupt(result.interrupted, "cancelled");
      runner.kick();
      return { cancelled: result.cancelled, refused: result.refused.map((r) => ({ sync: r.sync, reason: r.reason })) };
    },

    async delete(input) {
      // A teardown of a deployment never submitted has nothing to remove.
      store.getDeployment(input.tenant, input.deployment);
      return submitAndWake({
        tenant: input.tenant,
        deployment: input.deployment,
        kind: "teardown",
        mode: input.mode,
        ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
      });
    },

    async rollback(input) {
      return submitAndWake({
        tenant: input.tenant,
        deployment: input.deployment,
        kind: "apply",
        mode: "replace",
        rollback: input.generation !== undefined ? { generation: input.generation } : {},
      });
    },

    async events(input) {
      store.getDeployment(input.tenant, input.deployment);
      return store.eventsSince(input.tenant, input.deployment, input.since, input.limit);
    },

    async logs(input) {
      return logPage(input.tenant, input.deployment, input.sync, input.sinceLine, input.limit, input.derivation);
    },

    async *followLogs(input) {
      store.getSync(input.tenant, input.deployment, input.sync);
      try {
        yield* followLogLines(committedLogs.emitter, input, (since, limit) => logPage(input.tenant, input.deployment, input.sync, since, limit, input.derivation));
      } catch (err) {
        if (!input.signal.aborted) throw err;
      }
    },

    async graph(input) {
      const sync = store.getSyncRecord(input.sync);
      store.getSync(input.tenant, input.deployment, input.sync);
      if (!sync.buildId) return { nodes: [], edges: [], truncated: false };
      const g = await deps.rio.buildGraph(sync.buildId);
      return {
        nodes: g.nodes.map((n) => ({ drv: n.drvPath, pname: n.pname, system: n.system, status: n.status, executor: n.assignedExecutorId || null })),
        edges: g.edges.map((e) => [e.parent, e.child]),
        truncated: g.truncated,
      } satisfies GraphResult;
    },

    async schema(input) {
      const types = input.deploymentType !== undefined ? [deps.deploymentTypes.get(input.deploymentType)] : [...deps.deploymentTypes.values()];
      if (types[0] === undefined) throw new AppError("not_found", `no deployment type ${JSON.stringify(input.deploymentType)}`);
      const out: SchemaResult = { deployment_types: {} };
      for (const t of types) if (t) out.deployment_types[t.name] = { description: t.description, schema: { ...t.schema } };
      return out;
    },

    async syncGet(input) {
      return store.getSyncById(input.tenant, input.sync);
    },

    async history(input) {
      return store.syncHistory({
        tenant: input.tenant,
        deployment: input.deployment,
        limit: input.limit,
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.kind !== undefined ? { kind: input.kind } : {}),
        ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
      });
    },

    async queueStatus() {
      const counts = store.queueCounts();
      const cluster = await deps.rio.clusterStatus();
      return {
        syncs: { queued: counts.queued, evaluating: counts.evaluating, building: counts.building, deploying: counts.deploying + counts.destroying },
        scheduler: {
          total_executors: cluster.totalExecutors,
          active_executors: cluster.activeExecutors,
          draining_executors: cluster.drainingExecutors,
          pending_builds: cluster.pendingBuilds,
          active_builds: cluster.activeBuilds,
          queued_derivations: cluster.queuedDerivations,
          running_derivations: cluster.runningDerivations,
          store_size_bytes: cluster.storeSizeBytes,
          uptime_since: cluster.uptimeSince,
          queued_fod_derivations: cluster.queuedFodDerivations,
          queued_by_system: { ...cluster.queuedBySystem },
        },
      } satisfies QueueStatusResult;
    },
  };

  function logPage(tenant: string, deployment: string, sync: string, sinceLine: number, limit: number, derivation: string | undefined): LogsResult {
    const page = store.logLines(tenant, deployment, sync, { sinceLine, limit, ...(derivation !== undefined ? { derivation } : {}) });
    return { lines: page.lines.map((l) => ({ ...l })), next_line: page.next_line, complete: page.complete };
  }
}
