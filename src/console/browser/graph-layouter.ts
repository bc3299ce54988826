/** ELK in its own Web Worker (elk-worker.js, served beside app.js), behind layoutInput/readLayout. */
import ELK from "elkjs/lib/elk-api.js";
import { layoutInput, readLayout, type GraphLayout } from "./graph-layout.js";
import type { GraphModel } from "./graph-model.js";

export interface GraphLayouter {
  layout(model: GraphModel): Promise<GraphLayout>;
  close(): void;
}

export function createGraphLayouter(workerUrl: string): GraphLayouter {
  const elk = new ELK({ workerUrl });
  return {
    async layout(model) {
      const input = layoutInput(model);
      return readLayout(input, await elk.layout(input.graph));
    },
    close: () => elk.terminateWorker(),
  };
}
