/**
 * The deploy phases: apply the outputs (or a stored generation's, for a rollback) with the type's
 * deployer, or tear the deployment down, streaming the deployer's output into the sync's log, then
 * record the sync as succeeded. Deployers are idempotent, so a resumed sync simply runs this again.
 */
import { pendingEvent } from "../core/index.js";
import type { DeploymentType } from "../eval/index.js";
import type { NewLogLine, Store, SyncRecord } from "../store/index.js";
import type { SyncRunDeps } from "./sync-deps.js";

function lineSink(store: Store, syncId: string) {
  let pending: NewLogLine[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    store.appendLogLines(syncId, batch);
  };
  return {
    onLine: (_source: "deploy", text: string) => {
      pending.push({ source: "deploy", text });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          try {
            flush();
          } catch {
            // The sync ended meanwhile; its log is complete.
          }
        });
      }
    },
    flush,
  };
}

export async function deploy(
  deps: SyncRunDeps,
  type: DeploymentType,
  record: SyncRecord,
  how: "apply" | "rollback",
  outputs: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const view = deps.store.getDeployment(record.tenant, record.deployment);
  const live = view.generation;
  const previous = live === null ? null : deps.store.getGeneration(record.tenant, record.deployment, live);
  const deployer = deps.deployerFor(type);
  const sink = lineSink(deps.store, record.id);
  const ctx = {
    tenant: record.tenant,
    deployment: record.deployment,
    sync: record.id,
    generation: how === "rollback" && record.rollbackGeneration !== null ? record.rollbackGeneration : (record.generation ?? latestGeneration(deps.store, record) + 1),
    outputs,
    previous: previous ? { generation: previous.number, outputs: previous.outputPaths } : null,
    secrets: type.secrets,
    signal,
    timeoutMs: deps.timeouts.deployMs,
    onLine: sink.onLine,
  };
  try {
    if (how === "apply") await deployer.apply(ctx);
    else await deployer.rollback(ctx);
  } finally {
    sink.flush();
  }
  deps.store.finishSync(record.id, {
    from: "deploying",
    state: "succeeded",
    outputPaths: outputs,
    events: [pendingEvent("deploy.finished", record.id, { outputs })],
  });
}

function latestGeneration(store: Store, record: SyncRecord): number {
  const gens = store.listGenerations(record.tenant, record.deployment);
  return gens.reduce((max, g) => Math.max(max, g.number), 0);
}

export async function teardown(deps: SyncRunDeps, type: DeploymentType, record: SyncRecord, signal: AbortSignal): Promise<void> {
  const view = deps.store.getDeployment(record.tenant, record.deployment);
  const live = view.generation;
  const gen = live === null ? null : deps.store.getGeneration(record.tenant, record.deployment, live);
  const sink = lineSink(deps.store, record.id);
  try {
    await deps.deployerFor(type).teardown({
      tenant: record.tenant,
      deployment: record.deployment,
      sync: record.id,
      generation: live ?? 0,
      outputs: gen?.outputPaths ?? [],
      previous: null,
      secrets: type.secrets,
      signal,
      timeoutMs: deps.timeouts.deployMs,
      onLine: sink.onLine,
    });
  } finally {
    sink.flush();
  }
  deps.store.finishSync(record.id, { from: "destroying", state: "succeeded", events: [pendingEvent("deploy.finished", record.id, { teardown: true })] });
}
