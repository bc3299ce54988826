/**
 * The derivation graph of one sync as the console keeps it: nodes with a display status, updated
 * from `derivation` events, plus the graph computations the page needs (topological order,
 * transitive reduction for drawing, the critical path). Pure: no DOM, unit-tested in Node.
 */
import type { GraphResult } from "./api-types.js";

export const nodeStatuses = ["queued", "running", "cached", "built", "failed", "skipped"] as const;
export type NodeStatus = (typeof nodeStatuses)[number];

/** rio's GraphNode.status text → what the console shows. `completed` means built unless an event said cached. */
export function statusFromRio(status: string): NodeStatus {
  switch (status) {
    case "running":
    case "substituting":
    case "assigned":
      return "running";
    case "completed":
      return "built";
    case "failed":
    case "poisoned":
      return "failed";
    case "dependency_failed":
    case "cancelled":
    case "skipped":
      return "skipped";
    default:
      return "queued";
  }
}

/** A `derivation` event's kind → status (api.md: started/completed/cached/failed/substituting). */
export function statusFromEventKind(kind: string): NodeStatus | null {
  switch (kind) {
    case "started":
    case "substituting":
      return "running";
    case "completed":
      return "built";
    case "cached":
      return "cached";
    case "failed":
      return "failed";
    default:
      return null;
  }
}

export interface ModelNode {
  readonly drv: string;
  readonly pname: string;
  status: NodeStatus;
  /** Milliseconds since the epoch, from the events' `at`. */
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

export interface GraphModel {
  readonly nodes: ReadonlyMap<string, ModelNode>;
  /** Dependencies of each node (build.graph edge [parent, child]: parent needs child). */
  readonly children: ReadonlyMap<string, readonly string[]>;
  readonly parents: ReadonlyMap<string, readonly string[]>;
  /** Every node once, each after all of its dependencies. */
  readonly order: readonly string[];
  readonly truncated: boolean;
}

export function createGraphModel(graph: GraphResult): GraphModel {
  const nodes = new Map<string, ModelNode>();
  for (const n of graph.nodes) {
    nodes.set(n.drv, { drv: n.drv, pname: n.pname || n.drv, status: statusFromRio(n.status), startedAt: null, finishedAt: null, error: null });
  }
  const children = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  for (const drv of nodes.keys()) {
    children.set(drv, []);
    parents.set(drv, []);
  }
  const seen = new Set<string>();
  for (const [parent, child] of graph.edges) {
    // Edges to nodes cut off by a truncated graph, self-loops and duplicates are dropped.
    if (!nodes.has(parent) || !nodes.has(child) || parent === child) continue;
    const key = `${parent}\n${child}`;
    if (seen.has(key)) continue;
    seen.add(key);
    children.get(parent)?.push(child);
    parents.get(child)?.push(parent);
  }
  return { nodes, children, parents, order: topologicalOrder(nodes.keys(), children, parents), truncated: graph.truncated };
}

/** Kahn's algorithm, dependencies first; nodes on a cycle (never in a Nix graph) go last. */
function topologicalOrder(all: Iterable<string>, children: ReadonlyMap<string, readonly string[]>, parents: ReadonlyMap<string, readonly string[]>): string[] {
  const pending = new Map<string, number>();
  const ready: string[] = [];
  for (const drv of all) {
    const n = children.get(drv)?.length ?? 0;
    pending.set(drv, n);
    if (n === 0) ready.push(drv);
  }
  const order: string[] = [];
  for (let i = 0; i < ready.length; i++) {
    const drv = ready[i] as string;
    order.push(drv);
    for (const p of parents.get(drv) ?? []) {
      const left = (pending.get(p) ?? 0) - 1;
      pending.set(p, left);
      if (left === 0) ready.push(p);
    }
  }
  if (order.length < pending.size) {
    const placed = new Set(order);
    for (const drv of pending.keys()) if (!placed.has(drv)) order.push(drv);
  }
  return order;
}

export interface DerivationUpdate {
  readonly drv: string;
  readonly kind: string;
  readonly error?: string | undefined;
}

/** Applies one `derivation` event; returns the node when its status changed. */
export function applyDerivationEvent(model: GraphModel, update: DerivationUpdate, atMs: number): ModelNode | null {
  const node = model.nodes.get(update.drv);
  const status = statusFromEventKind(update.kind);
  if (!node || !status) return null;
  if (status === "running") node.startedAt ??= atMs;
  else node.finishedAt = atMs;
  if (status === "failed") node.error = update.error ?? "failed";
  // A late "started" never turns a finished node back into a running one.
  if (node.status === status || (status === "running" && (node.status === "built" || node.status === "cached" || node.status === "failed"))) return null;
  node.status = status;
  return node;
}

export function statusCounts(model: GraphModel): Record<NodeStatus, number> {
  const out = Object.fromEntries(nodeStatuses.map((s) => [s, 0])) as Record<NodeStatus, number>;
  for (const n of model.nodes.values()) out[n.status] += 1;
  return out;
}

export function isDone(status: NodeStatus): boolean {
  return status === "built" || status === "cached";
}

/** Still to happen: queued or running. */
export function isPending(status: NodeStatus): boolean {
  return status === "queued" || status === "running";
}

export interface CriticalPath {
  /** In build order: the first derivation to finish comes first. */
  readonly path: readonly string[];
  /** Seconds along the path, when durations could be estimated; else null. */
  readonly remainingSecs: number | null;
  /** `observed`: nodes weighed by this build's mean derivation time; `count`: each pending node 1. */
  readonly weighting: "observed" | "count";
}

/**
 * The longest chain of derivations still to build. Each pending node weighs what is left of it:
 * a queued one the mean build time observed in this sync so far, a running one that mean minus
 * what it has already run (at least nothing); finished, failed and skipped nodes weigh nothing.
 * Before any derivation has finished there is no mean: each pending node weighs 1, so the path is
 * the one with the most derivations left. Ties go to the chain with more nodes.
 */
export function criticalPath(model: GraphModel, nowMs: number): CriticalPath {
  let total = 0;
  let count = 0;
  for (const n of model.nodes.values()) {
    if (n.status === "built" && n.startedAt !== null && n.finishedAt !== null && n.finishedAt >= n.startedAt) {
      total += n.finishedAt - n.startedAt;
      count += 1;
    }
  }
  const meanSecs = count > 0 ? total / count / 1000 : null;
  const weight = (n: ModelNode): number => {
    if (meanSecs === null) return 1;
    if (n.status === "running" && n.startedAt !== null) return Math.max(meanSecs - (nowMs - n.startedAt) / 1000, 0);
    return meanSecs;
  };
  const tie = 1e-6;
  const score = new Map<string, number>();
  const next = new Map<string, string | null>();
  let best: string | null = null;
  for (const drv of model.order) {
    const n = model.nodes.get(drv);
    if (!n || !isPending(n.status)) {
      score.set(drv, 0);
      continue;
    }
    let bestChild: string | null = null;
    let bestChildScore = 0;
    for (const c of model.children.get(drv) ?? []) {
      const sc = score.get(c) ?? 0;
      if (sc > bestChildScore) {
        bestChildScore = sc;
        bestChild = c;
      }
    }
    const sc = weight(n) + tie + bestChildScore;
    score.set(drv, sc);
    next.set(drv, bestChild);
    if (best === null || sc > (score.get(best) ?? 0)) best = drv;
  }
  const path: string[] = [];
  for (let at: string | null = best; at !== null; at = next.get(at) ?? null) path.push(at);
  path.reverse();
  const remaining = best === null ? 0 : (score.get(best) ?? 0) - tie * path.length;
  return { path, remainingSecs: meanSecs === null ? null : Math.max(remaining, 0), weighting: meanSecs === null ? "count" : "observed" };
}

/**
 * The edges that are not implied by others (A needs C is dropped when A needs B and B needs C).
 * Nix graphs repeat their common dependencies everywhere; drawing only the reduction keeps the
 * picture readable and the layout fast. Returned as [child, parent]: arrows point the way builds go.
 */
export function transitiveReduction(model: GraphModel): [string, string][] {
  const index = new Map<string, number>();
  model.order.forEach((drv, i) => index.set(drv, i));
  const words = Math.ceil(model.order.length / 32) || 1;
  const reach: Uint32Array[] = [];
  const out: [string, string][] = [];
  for (let i = 0; i < model.order.length; i++) {
    const drv = model.order[i] as string;
    const r = new Uint32Array(words);
    const kids = (model.children.get(drv) ?? []).map((c) => index.get(c) as number).filter((c) => c < i);
    for (const c of kids) {
      const rc = reach[c] as Uint32Array;
      for (let w = 0; w < words; w++) r[w] = (r[w] as number) | (rc[w] as number);
    }
    for (const c of kids) {
      // Redundant when another child already reaches c.
      if (!(((r[c >> 5] as number) >>> (c & 31)) & 1)) out.push([model.order[c] as string, drv]);
    }
    for (const c of kids) r[c >> 5] = (r[c >> 5] as number) | (1 << (c & 31));
    reach.push(r);
  }
  return out;
}
