/**
 * A sync's phases with the time each began, from its stored events (`sync.queued`, `sync.state`,
 * `sync.finished`). Pure: no DOM.
 */
import type { ApiEvent } from "./api-types.js";

export type StepState = "done" | "current" | "pending" | "ended";

export interface PhaseStep {
  readonly phase: string;
  readonly at: string | null;
  readonly secs: number | null;
  readonly state: StepState;
}

const applyPhases = ["queued", "evaluating", "building", "deploying"];
const teardownPhases = ["queued", "destroying"];

export function phaseSteps(kind: string, events: readonly ApiEvent[], nowMs: number): PhaseStep[] {
  const phases = kind === "teardown" ? teardownPhases : applyPhases;
  const started = new Map<string, string>();
  let outcome: { state: string; at: string } | null = null;
  for (const e of events) {
    if (e.type === "sync.queued") started.set("queued", e.at);
    else if (e.type === "sync.state" && typeof e.data["to"] === "string") started.set(e.data["to"], e.at);
    else if (e.type === "sync.finished" && typeof e.data["state"] === "string") outcome = { state: e.data["state"], at: e.at };
  }
  const reached = phases.filter((p) => started.has(p));
  const last = reached[reached.length - 1];
  const steps: PhaseStep[] = phases.map((phase, i) => {
    const at = started.get(phase) ?? null;
    const nextAt = phases.slice(i + 1).map((p) => started.get(p)).find((t) => t !== undefined) ?? outcome?.at ?? null;
    const secs = at ? ((nextAt ? Date.parse(nextAt) : nowMs) - Date.parse(at)) / 1000 : null;
    let state: StepState = "pending";
    if (at) state = phase === last && !outcome ? "current" : "done";
    return { phase, at, secs: at && (nextAt || !outcome) ? secs : null, state };
  });
  if (outcome) steps.push({ phase: outcome.state, at: outcome.at, secs: null, state: "ended" });
  return steps;
}

