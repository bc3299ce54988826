/**
 * ELK in its own Web Worker (elk-worker.js, served beside app.js), behind layoutInput/readLayout.
 * ELK is Java compiled to JavaScript: a fresh worker runs its first layouts several times slower
 * than later ones while the engine compiles it. So the worker starts with the page and lays out
 * two small synthetic graphs (one per algorithm the console uses) before any real graph arrives;
 * a real layout asked for meanwhile waits behind them.
 */
import ELK from "elkjs/lib/elk-api.js";
import { layoutInput, readLayout, type GraphLayout } from "./graph-layout.js";
import { createGraphModel, type GraphModel } from "./graph-model.js";
import { syntheticGraph } from "./synthetic-graph.js";

export interface GraphLayouter {
  layout(model: GraphModel): Promise<GraphLayout>;
  /** Settles when the warm-up layouts are done. */
  readonly warm: Promise<void>;
  close(): void;
}

export function createGraphLayouter(workerUrl: string): GraphLayouter {
  const elk = new ELK({ workerUrl });
  const warm = (async () => {
    for (const n of [60, 400]) await elk.layout(layoutInput(createGraphModel(syntheticGraph(n, 7))).graph);
  })().catch(() => undefined);
  return {
    async layout(model) {
      const input = layoutInput(model);
      return readLayout(input, await elk.layout(input.graph));
    },
    warm,
    close: () => elk.terminateWorker(),
  };
}
