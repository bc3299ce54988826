/**
 * The benchmark's page (bench/console.ts bundles it; the console never loads it): the console's
 * own graph code — model, ELK in its worker, SVG view, per-frame status and critical-path updates —
 * on a synthetic graph, timed from the data being there to the first painted frame, then frame
 * times while derivation events arrive at a given rate.
 */
import { createGraphLayouter } from "./graph-layouter.js";
import { applyDerivationEvent, createGraphModel, criticalPath, type GraphModel } from "./graph-model.js";
import { createGraphView } from "./graph-view.js";
import { syntheticGraph } from "./synthetic-graph.js";

interface RenderFigures {
  nodes: number;
  edges: number;
  mode: string;
  layoutMs: number;
  firstRenderMs: number;
}

// As on the deployment page, ELK's worker starts with the page, before the graph data is there.
const layouter = createGraphLayouter(new URL("./elk-worker.js", import.meta.url).href);
let model: GraphModel | null = null;
let view: ReturnType<typeof createGraphView> | null = null;

async function render(n: number, afterWarmUp: boolean): Promise<RenderFigures> {
  if (afterWarmUp) await layouter.warm;
  const graph = syntheticGraph(n);
  const t0 = performance.now();
  const m = createGraphModel(graph);
  const layout = await layouter.layout(m);
  const t1 = performance.now();
  const v = createGraphView({ label: "benchmark graph", onSelect: () => {} });
  document.body.append(v.element);
  v.draw(m, layout);
  v.setCriticalPath(criticalPath(m, Date.now()).path);
  await v.flushed();
  const t2 = performance.now();
  model = m;
  view = v;
  return { nodes: graph.nodes.length, edges: graph.edges.length, mode: layout.mode, layoutMs: t1 - t0, firstRenderMs: t2 - t0 };
}

/** Derivation events at `rate` per second for `secs`; returns the time between painted frames. */
function stream(rate: number, secs: number): Promise<{ frames: number[]; events: number }> {
  const m = model;
  const v = view;
  if (!m || !v) throw new Error("render first");
  const order = [...m.order];
  let next = 0;
  let events = 0;
  const running: string[] = [];
  let pathFrame = 0;
  const frames: number[] = [];
  let last = performance.now();
  let stop = false;
  const onFrame = (t: number) => {
    frames.push(t - last);
    last = t;
    if (!stop) requestAnimationFrame(onFrame);
  };
  requestAnimationFrame((t) => {
    last = t;
    requestAnimationFrame(onFrame);
  });
  const start = performance.now();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * rate) - events;
      for (let i = 0; i < due; i++) {
        // Half the events start a derivation, half complete one: as a build streams them.
        let update: { drv: string; kind: string };
        if (running.length > 0 && (events % 2 === 1 || next >= order.length)) update = { drv: running.shift() as string, kind: "completed" };
        else if (next < order.length) {
          const drv = order[next++] as string;
          running.push(drv);
          update = { drv, kind: "started" };
        } else break;
        events++;
        const changed = applyDerivationEvent(m, update, Date.now());
        if (changed) v.touch(changed.drv);
        if (!pathFrame) {
          pathFrame = requestAnimationFrame(() => {
            pathFrame = 0;
            v.setCriticalPath(criticalPath(m, Date.now()).path);
          });
        }
      }
      if (performance.now() - start >= secs * 1000) {
        clearInterval(timer);
        stop = true;
        resolve({ frames: frames.slice(1), events });
      }
    }, 5);
  });
}

(globalThis as unknown as { graphBench: unknown }).graphBench = { render, stream };
