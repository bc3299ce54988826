/**
 * Lays out a sync's derivation graph with ELK's layered algorithm (elkjs), in ELK's own Web Worker
 * so the page stays responsive meanwhile. Dependencies sit left of what needs them, so a build runs
 * left to right. `layoutInput` is pure (no DOM, no worker) and shared with the benchmark.
 *
 * Up to `fullLayoutLimit` nodes ELK's layered algorithm gets every edge of the transitive
 * reduction and minimises crossings. Beyond that, layering thousands of long edges costs seconds,
 * so ELK's tree algorithm (mrtree) gets one edge per node, from its deepest dependency: that tree
 * puts each derivation in the column of its longest dependency chain, as the layered layout does,
 * and keeps what hangs on one dependency together; the other edges are drawn as curves over it. docs/console.md has the measurements behind this. Pure (no DOM, no worker): the page
 * runs ELK through graph-layouter.ts.
 */
import type { ElkExtendedEdge, ElkNode, LayoutOptions } from "elkjs/lib/elk-api.js";
import { transitiveReduction, type GraphModel } from "./graph-model.js";

export const fullLayoutLimit = 200;
export const nodeHeight = 26;

export interface NodeBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface EdgeRoute {
  /** [child, parent]: the dependency, then what needs it. */
  readonly from: string;
  readonly to: string;
  /** Routed by ELK, or null: drawn as a curve between the two boxes. */
  readonly points: readonly { x: number; y: number }[] | null;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly boxes: ReadonlyMap<string, NodeBox>;
  readonly edges: readonly EdgeRoute[];
  readonly mode: "full" | "backbone";
}

export function nodeWidth(label: string): number {
  // 12 px labels: about 7.2 px a character, plus the status symbol and padding.
  return Math.min(Math.max(Math.ceil(label.length * 7.2) + 36, 64), 240);
}

export interface LayoutInput {
  readonly graph: ElkNode;
  /** Edges drawn on top of ELK's result without routing (backbone mode). */
  readonly extraEdges: readonly [string, string][];
  readonly mode: "full" | "backbone";
}

export function layoutInput(model: GraphModel): LayoutInput {
  const reduced = transitiveReduction(model);
  const full = model.order.length <= fullLayoutLimit;
  const common: LayoutOptions = {
    "elk.algorithm": "layered",
    "elk.direction": "RIGHT",
    "elk.edgeRouting": "POLYLINE",
    "elk.layered.layering.strategy": "LONGEST_PATH_SOURCE",
    "elk.spacing.nodeNode": "8",
    "elk.layered.spacing.nodeNodeBetweenLayers": "36",
    "elk.layered.spacing.edgeNodeBetweenLayers": "12",
    "elk.padding": "[top=12,left=12,bottom=12,right=12]",
  };
  let layoutEdges: [string, string][];
  let extraEdges: [string, string][] = [];
  let order: readonly string[] = model.order;
  let options: LayoutOptions;
  if (full) {
    layoutEdges = reduced;
    options = { ...common, "elk.layered.thoroughness": "4" };
  } else {
    const { tree, rest, dfs } = backbone(model, reduced);
    layoutEdges = tree;
    extraEdges = rest;
    order = dfs;
    options = {
      "elk.algorithm": "mrtree",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": "8",
      "elk.padding": "[top=12,left=12,bottom=12,right=12]",
    };
  }
  const children: ElkNode[] = order.map((drv) => {
    const n = model.nodes.get(drv);
    return { id: drv, width: nodeWidth(n?.pname ?? drv), height: nodeHeight };
  });
  const edges: ElkExtendedEdge[] = layoutEdges.map(([from, to], i) => ({ id: `e${i}`, sources: [from], targets: [to] }));
  return { graph: { id: "root", layoutOptions: options, children, edges }, extraEdges, mode: full ? "full" : "backbone" };
}

/**
 * One edge per node, from its deepest dependency (longest chain below it): a forest whose roots are
 * the derivations without dependencies. Nodes go to ELK in depth-first order from the top-level
 * derivations, so siblings keep a stable, related order.
 */
function backbone(model: GraphModel, reduced: readonly [string, string][]): { tree: [string, string][]; rest: [string, string][]; dfs: string[] } {
  const depth = new Map<string, number>();
  for (const drv of model.order) {
    let d = 0;
    for (const c of model.children.get(drv) ?? []) d = Math.max(d, (depth.get(c) ?? 0) + 1);
    depth.set(drv, d);
  }
  const treeChildren = new Map<string, string[]>();
  const tree: [string, string][] = [];
  const rest: [string, string][] = [];
  const chosen = new Map<string, string>();
  for (const drv of model.order) {
    let best: string | null = null;
    for (const c of model.children.get(drv) ?? []) if (best === null || (depth.get(c) ?? 0) > (depth.get(best) ?? 0)) best = c;
    if (best !== null) {
      chosen.set(drv, best);
      const list = treeChildren.get(drv) ?? [];
      list.push(best);
      treeChildren.set(drv, list);
    }
  }
  for (const [from, to] of reduced) {
    if (chosen.get(to) === from) tree.push([from, to]);
    else rest.push([from, to]);
  }
  // A node may be the deepest dependency of several parents but has only one spot: DFS from the
  // roots (nodes nothing depends on) visits each node once.
  const dfs: string[] = [];
  const visited = new Set<string>();
  const roots = model.order.filter((d) => (model.parents.get(d)?.length ?? 0) === 0).reverse();
  const visit = (start: string) => {
    const stack = [start];
    while (stack.length > 0) {
      const drv = stack.pop() as string;
      if (visited.has(drv)) continue;
      visited.add(drv);
      dfs.push(drv);
      const kids = model.children.get(drv) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) if (!visited.has(kids[i] as string)) stack.push(kids[i] as string);
    }
  };
  for (const r of roots) visit(r);
  for (const drv of model.order) if (!visited.has(drv)) visit(drv);
  return { tree, rest, dfs };
}

/** Turns ELK's answer into boxes and routes. */
export function readLayout(input: LayoutInput, result: ElkNode): GraphLayout {
  const boxes = new Map<string, NodeBox>();
  for (const c of result.children ?? []) boxes.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? nodeHeight });
  const edges: EdgeRoute[] = [];
  for (const e of (result.edges ?? []) as ElkExtendedEdge[]) {
    const from = e.sources[0] as string;
    const to = e.targets[0] as string;
    const section = e.sections?.[0];
    edges.push({ from, to, points: section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : null });
  }
  for (const [from, to] of input.extraEdges) edges.push({ from, to, points: null });
  return { width: result.width ?? 0, height: result.height ?? 0, boxes, edges, mode: input.mode };
}
