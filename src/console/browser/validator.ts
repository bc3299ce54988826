/** The page's side of validate-worker.js: one worker, requests answered in order. */
import type { JsonSchema } from "./api-types.js";

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export interface Validator {
  validate(schema: JsonSchema, value: unknown): Promise<Problem[]>;
  close(): void;
}

export function createValidator(workerUrl: string): Validator {
  const worker = new Worker(workerUrl);
  let next = 1;
  const waiting = new Map<number, { resolve: (p: Problem[]) => void; reject: (e: Error) => void }>();
  worker.onmessage = (e: MessageEvent<{ id: number; problems: Problem[]; failure?: string }>) => {
    const w = waiting.get(e.data.id);
    if (!w) return;
    waiting.delete(e.data.id);
    if (e.data.failure) w.reject(new Error(`the schema could not be compiled: ${e.data.failure}`));
    else w.resolve(e.data.problems);
  };
  worker.onerror = (e) => {
    for (const w of waiting.values()) w.reject(new Error(`validation is unavailable: ${e.message}`));
    waiting.clear();
  };
  return {
    validate(schema, value) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, schema, value });
      });
    },
    close: () => worker.terminate(),
  };
}
