/**
 * Reloading non-terminal builds from the durable state after a restart or failover (rio's
 * recover_from_pg): their derivations are merged again, the stored events come back for replay,
 * sequences continue from the highest stored one, and dispatch resumes.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { BuildEventSchema } from "../../generated/build_types_pb.js";
import { findInvalidPaths } from "../eval/validity.js";
import type { BuildRegistry } from "./build-registry.js";
import type { BuildLifecycle } from "./build-lifecycle.js";
import type { DerivationTable } from "./derivation-table.js";
import { checkableOutputs, mergeIntoTable, newBuild } from "./merge.js";
import type { StateDb } from "./state-db.js";
import type { PriorityClassName, SubmittedNode } from "./validate-submit.js";

export interface RecoveryDeps {
  readonly db: StateDb;
  readonly table: DerivationTable;
  readonly registry: BuildRegistry;
  readonly lifecycle: BuildLifecycle;
  readonly log: Logger;
}

export async function recoverBuilds(deps: RecoveryDeps): Promise<number> {
  const { db, table, registry } = deps;
  db.sweepTerminalEvents();
  const loaded = db.liveBuilds().map((row) => {
    const nodes: SubmittedNode[] = db.nodesOf(row.build_id).map((n) => ({
      drvPath: n.drv_path, drvHash: n.drv_hash, pname: n.pname, system: n.system,
      outputNames: JSON.parse(n.output_names) as string[], outputPaths: JSON.parse(n.output_paths) as string[],
      drvContent: new Uint8Array(), floatingCa: false,
    }));
    return { row, nodes, edges: db.edgesOf(row.build_id) };
  });
  const invalid = await findInvalidPaths(loaded.flatMap((l) => checkableOutputs(l.nodes)));
  for (const { row, nodes, edges } of loaded) {
    mergeIntoTable(table, row.build_id, row.priority_class as PriorityClassName, nodes, edges, invalid);
    const b = newBuild(row, nodes.map((n) => n.drvPath), edges);
    for (const r of db.loadEvents(row.build_id)) b.events.push(fromBinary(BuildEventSchema, r.event));
    b.seq = db.maxSequence(row.build_id);
    registry.add(b);
  }
  if (loaded.length > 0) deps.log.info({ builds: loaded.length }, "recovered non-terminal builds");
  for (const { row } of loaded) {
    const b = registry.get(row.build_id);
    if (b) deps.lifecycle.start(b);
  }
  return loaded.length;
}
