/**
 * Merging a submission into the global derivation table (rio's actor/merge.rs): checks that every
 * .drv is in the local store (and equals any inlined copy), prunes to the roots when their outputs
 * are already valid, refuses cycles, dedups against derivations other builds already brought, and
 * re-arms what earlier builds gave up on.
 */
import { readFile } from "node:fs/promises";
import { AppError } from "../errors.js";
import type { Build } from "./build-registry.js";
import type { DerivationTable, DrvEntry } from "./derivation-table.js";
import type { BuildRow } from "./state-db.js";
import { isStorePath, type PriorityClassName, type SubmittedEdge, type SubmittedNode } from "./validate-submit.js";

export async function readDrvs(nodes: readonly SubmittedNode[]): Promise<void> {
  const queue = [...nodes];
  const worker = async (): Promise<void> => {
    for (let n = queue.pop(); n; n = queue.pop()) {
      let bytes: Buffer;
      try {
        bytes = await readFile(n.drvPath);
      } catch {
        throw new AppError("invalid_argument", `derivation not in the local store: ${n.drvPath}`);
      }
      if (n.drvContent.length > 0 && !bytes.equals(n.drvContent)) {
        throw new AppError("invalid_argument", `drv_content does not match ${n.drvPath}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Output paths worth asking the store about: a string that is no store path is never valid. */
export function checkableOutputs(nodes: readonly SubmittedNode[]): string[] {
  return nodes.flatMap((n) => n.outputPaths.filter(isStorePath));
}

/** Whether a node's outputs are all valid: at least one expected path, every one in the store. */
export function outputsValid(paths: readonly string[], invalid: ReadonlySet<string>): boolean {
  const wanted = paths.filter((p) => p !== "");
  return wanted.length > 0 && wanted.every((p) => isStorePath(p) && !invalid.has(p));
}

/**
 * rio's top-down shortcut (merge.rs step 0, check_roots_topdown): when every root's outputs are
 * already valid, the dependencies are not needed and the submission shrinks to the roots, with no
 * edges. Roots are nodes that are no edge's child in this submission. Falls through (returns the
 * input) for a single node, no edges, no distinct roots, a floating-CA root, or roots without any
 * expected output path.
 */
export function pruneToValidRoots(
  nodes: readonly SubmittedNode[],
  edges: readonly SubmittedEdge[],
  invalid: ReadonlySet<string>,
): { nodes: readonly SubmittedNode[]; edges: readonly SubmittedEdge[] } {
  const unchanged = { nodes, edges };
  if (edges.length === 0 || nodes.length <= 1) return unchanged;
  const children = new Set(edges.map((e) => e.child));
  const roots = nodes.filter((n) => !children.has(n.drvPath));
  if (roots.length === 0 || roots.length === nodes.length) return unchanged;
  if (roots.some((n) => n.floatingCa)) return unchanged;
  const rootPaths = roots.flatMap((n) => n.outputPaths.filter((p) => p !== ""));
  if (rootPaths.length === 0) return unchanged;
  if (rootPaths.some((p) => !isStorePath(p) || invalid.has(p))) return unchanged;
  return { nodes: roots, edges: [] };
}

export function assertAcyclic(table: DerivationTable, nodes: readonly SubmittedNode[], edges: readonly SubmittedEdge[]): void {
  const extra = new Map<string, string[]>();
  for (const ed of edges) {
    const list = extra.get(ed.parent);
    if (list) list.push(ed.child);
    else extra.set(ed.parent, [ed.child]);
  }
  const childrenOf = (p: string): string[] => [...(table.get(p)?.children ?? []), ...(extra.get(p) ?? [])];
  const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = finished
  for (const n of nodes) {
    if (state.has(n.drvPath)) continue;
    // Each frame keeps its child list, so a wide node is not re-listed once per child.
    const stack: [string, number, string[]][] = [[n.drvPath, 0, childrenOf(n.drvPath)]];
    state.set(n.drvPath, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const kids = top[2];
      if (top[1] >= kids.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const c = kids[top[1]++]!;
      const s = state.get(c);
      if (s === 1) throw new AppError("internal", "DAG merge failed: dependency cycle detected");
      if (s === undefined) {
        state.set(c, 1);
        stack.push([c, 0, childrenOf(c)]);
      }
    }
  }
}

/**
 * Adds nodes/edges to the global table and this build's interest (with its priority class, which
 * raises the queue priority of shared work at once); returns the nodes cached at merge.
 */
export function mergeIntoTable(
  table: DerivationTable,
  buildId: string,
  priorityClass: PriorityClassName,
  nodes: readonly SubmittedNode[],
  edges: readonly SubmittedEdge[],
  invalid: ReadonlySet<string>,
): { cachedNew: DrvEntry[]; cachedCount: number } {
  const known = new Set(nodes.map((n) => n.drvPath));
  const cachedNew: DrvEntry[] = [];
  let cachedCount = 0;
  for (const n of nodes) {
    const valid = outputsValid(n.outputPaths, invalid);
    let e = table.get(n.drvPath);
    if (!e) {
      e = table.add(n);
      if (valid) {
        table.setStatus(e, "completed");
        cachedNew.push(e);
      }
    } else if (e.status === "completed" && !valid) {
      table.setStatus(e, "queued"); // outputs were collected since
    } else if (e.status === "poisoned" || e.status === "dependency_failed" || e.status === "cancelled") {
      // Resubmission re-arms what an earlier build gave up on (rio: a poisoned derivation while
      // its retry count is under POISON_RESUBMIT_RETRY_LIMIT, always true here). rio re-inserts
      // the node, so its timeout retries start over.
      e.timeoutRetries = 0;
      table.setStatus(e, valid ? "completed" : "queued");
      if (valid) cachedNew.push(e);
    }
    if (e.status === "completed" && valid) cachedCount++;
    e.interest.set(buildId, priorityClass);
  }
  for (const ed of edges) {
    const p = table.get(ed.parent);
    const c = table.get(ed.child);
    if (!p || !c || !(known.has(ed.parent) || known.has(ed.child))) continue; // rio skips dangling edges
    table.link(p, c);
  }
  table.invalidateCriticalPaths();
  return { cachedNew, cachedCount };
}

export function newBuild(row: BuildRow, nodes: readonly string[], edges: readonly SubmittedEdge[]): Build {
  const inBuild = new Set(nodes);
  const hasParent = new Set(edges.filter((e) => inBuild.has(e.parent) && inBuild.has(e.child)).map((e) => e.child));
  return {
    id: row.build_id,
    tenantId: row.tenant_id,
    priorityClass: row.priority_class as Build["priorityClass"],
    keepGoing: row.keep_going === 1,
    buildTimeout: row.build_timeout,
    maxSilentTime: row.max_silent_time,
    buildCores: row.build_cores,
    submittedAt: row.submitted_at,
    nodes,
    roots: nodes.filter((n) => !hasParent.has(n)),
    state: { name: "active" },
    seq: 0,
    events: [],
    watchers: new Set(),
    zeroWatchersSince: Date.now(),
    cached: row.cached,
    doneCursor: 0,
  };
}
