/**
 * SubmitBuild after validation (rio's handle_merge_dag): reads the .drv files, asks the store which
 * outputs are valid, prunes to the roots when they all are, merges into the global table, writes
 * the durable rows and emits the first events (CACHED…, started, inputs_resolved, STARTED of
 * derivations already running for another build). Everything from the merge on is synchronous,
 * so a merge is atomic with respect to every other call.
 */
import type { Logger } from "pino";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { AppError } from "../errors.js";
import { findInvalidPaths } from "../eval/validity.js";
import type { Build, BuildRegistry } from "./build-registry.js";
import type { BuildLifecycle } from "./build-lifecycle.js";
import type { DerivationTable } from "./derivation-table.js";
import { derivationEvent } from "./dispatcher.js";
import type { EventChannel } from "./event-channel.js";
import { uuidv7 } from "./ids.js";
import { assertAcyclic, checkableOutputs, mergeIntoTable, newBuild, pruneToValidRoots, readDrvs } from "./merge.js";
import type { BuildRow, StateDb } from "./state-db.js";
import type { ValidSubmission } from "./validate-submit.js";

export interface SubmitParams {
  readonly submission: ValidSubmission;
  readonly tenantId: string | null;
  readonly keepGoing: boolean;
  readonly buildTimeout: number;
  readonly maxSilentTime: number;
  readonly buildCores: number;
}

export interface SubmissionDeps {
  readonly db: StateDb;
  readonly table: DerivationTable;
  readonly registry: BuildRegistry;
  readonly lifecycle: BuildLifecycle;
  readonly log: Logger;
  /** True once the scheduler is stopping: a merge that finished its I/O then is refused. */
  readonly stopping: () => boolean;
}

export async function submitBuild(deps: SubmissionDeps, params: SubmitParams): Promise<{ build: Build; events: EventChannel<BuildEvent> }> {
  const { db, table, registry } = deps;
  const { priorityClass } = params.submission;
  await readDrvs(params.submission.nodes);
  const invalid = await findInvalidPaths(checkableOutputs(params.submission.nodes));
  if (deps.stopping()) throw new AppError("unavailable", "scheduler is shutting down");
  // From here on everything is synchronous.
  const { nodes, edges } = pruneToValidRoots(params.submission.nodes, params.submission.edges, invalid);
  assertAcyclic(table, nodes, edges);
  const id = uuidv7();
  const { cachedNew, cachedCount } = mergeIntoTable(table, id, priorityClass, nodes, edges, invalid);
  const row: BuildRow = {
    build_id: id, tenant_id: params.tenantId, priority_class: priorityClass, state: "active",
    keep_going: params.keepGoing ? 1 : 0, build_timeout: params.buildTimeout, max_silent_time: params.maxSilentTime, build_cores: params.buildCores,
    submitted_at: Date.now(), total: nodes.length, completed: 0, cached: cachedCount, error_summary: "",
  };
  db.insertBuild(
    row,
    nodes.map((n) => ({
      build_id: id, drv_path: n.drvPath, drv_hash: n.drvHash, pname: n.pname, system: n.system,
      output_names: JSON.stringify(n.outputNames), output_paths: JSON.stringify(n.outputPaths),
      status: table.get(n.drvPath)?.status ?? "queued", executor: table.get(n.drvPath)?.lastExecutor ?? "",
    })),
    edges.map((e) => [e.parent, e.child]),
  );
  const b = newBuild(row, nodes.map((n) => n.drvPath), edges);
  registry.add(b);
  const events = registry.attach(b, 0);
  deps.log.info(
    { buildId: id, nodes: nodes.length, pruned: params.submission.nodes.length - nodes.length, cached: cachedCount, tenantId: params.tenantId },
    "build submitted",
  );
  for (const e of cachedNew) registry.emit(b, derivationEvent(e, DerivationEventKind.CACHED, { outputPaths: [...e.outputPaths] }));
  registry.emit(b, { case: "started", value: { totalDerivations: nodes.length, cachedDerivations: cachedCount } });
  registry.emit(b, { case: "inputsResolved", value: {} });
  for (const p of b.nodes) {
    const e = table.get(p);
    if (e?.status === "running") registry.emit(b, derivationEvent(e, DerivationEventKind.STARTED, { executorId: e.lastExecutor }));
  }
  deps.lifecycle.start(b);
  return { build: b, events };
}
