/**
 * Why a build is still waiting, read from its graph: derivations that never reached an executor
 * although every input was built. rio defers such a derivation without an event when no executor
 * advertises its system, or none is free (sched.dispatch.unroutable-system); this names them and
 * their systems, so a build that timed out says what it was waiting for.
 */
import type { RioClient } from "./client.js";
import type { BuildGraph } from "./types.js";

/** How many derivations a description names before it says "and N more". */
const named = 3;

/** Never-dispatched derivations whose inputs were all built, or null when there are none. */
export function describeUndispatched(graph: BuildGraph): string | null {
  const status = new Map(graph.nodes.map((n) => [n.drvPath, n.status]));
  const inputsOf = new Map<string, string[]>();
  for (const e of graph.edges) inputsOf.set(e.parent, [...(inputsOf.get(e.parent) ?? []), e.child]);
  // Status alone is not enough: once the build failed or was cancelled, a waiting derivation shows
  // dependency_failed too. Never having had an executor, with every input completed, is what stays.
  const waiting = graph.nodes.filter(
    (n) => n.assignedExecutorId === "" && n.status !== "completed" && (inputsOf.get(n.drvPath) ?? []).every((c) => status.get(c) === "completed"),
  );
  if (waiting.length === 0) return null;
  const label = (n: BuildGraph["nodes"][number]) => `${n.pname || n.drvPath} (${n.system})`;
  const list = waiting.slice(0, named).map(label).join(", ") + (waiting.length > named ? ` and ${waiting.length - named} more` : "");
  const systems = [...new Set(waiting.map((n) => n.system))].join(", ");
  const one = waiting.length === 1;
  return (
    `${one ? "1 derivation was" : `${waiting.length} derivations were`} never started although ${one ? "its" : "their"} inputs were built: ` +
    `${list}; no rio executor took ${one ? "it" : "them"} (none builds ${systems}, or none was free)`
  );
}

/** describeUndispatched over rio's current graph of the build; null when it cannot tell. */
export async function explainUndispatched(rio: Pick<RioClient, "buildGraph">, buildId: string): Promise<string | null> {
  try {
    return describeUndispatched(await rio.buildGraph(buildId));
  } catch {
    return null; // only an explanation: the caller's error stands without it
  }
}
