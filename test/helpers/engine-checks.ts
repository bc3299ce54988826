/**
 * Test-only checks over what the engine leaves behind: event logs (gapless, legal sync histories,
 * stored = published) and the activation log the engine test type's bin/activate appends to.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import type { ApiEvent, EngineClient } from "./engine-service.js";
import { sleep } from "./engine-service.js";

const terminal = new Set(["succeeded", "failed", "cancelled", "superseded", "timed_out"]);

/** Legal `sync.state` steps (docs/api.md states; rollback skips evaluating/building). */
const legal: Record<string, readonly string[]> = {
  queued: ["evaluating", "deploying", "destroying", "cancelled", "superseded", "failed", "timed_out"],
  evaluating: ["building", "deploying", "cancelled", "superseded", "failed", "timed_out"],
  building: ["deploying", "cancelled", "superseded", "failed", "timed_out"],
  deploying: ["succeeded", "failed", "timed_out"],
  destroying: ["succeeded", "failed", "timed_out"],
};

/** Returns a list of problems (empty = fine): seq gaps, illegal transitions, events after terminal. */
export function eventLogProblems(events: readonly ApiEvent[]): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event #${i} has seq ${e.seq}, expected ${i + 1}`);
  });
  const state = new Map<string, string>();
  for (const e of events) {
    if (!e.sync) continue;
    const current = state.get(e.sync);
    if (e.type === "sync.queued") {
      if (current !== undefined) problems.push(`seq ${e.seq}: ${e.sync} queued twice`);
      state.set(e.sync, "queued");
      continue;
    }
    if (current === undefined) {
      problems.push(`seq ${e.seq}: ${e.type} for ${e.sync} before sync.queued`);
      continue;
    }
    if (terminal.has(current) && e.type !== "sync.finished" && e.type !== "deployment.state") {
      problems.push(`seq ${e.seq}: ${e.type} for ${e.sync} after it was ${current}`);
    }
    if (e.type === "sync.state") {
      const from = String(e.data.from);
      const to = String(e.data.to);
      if (from !== current) problems.push(`seq ${e.seq}: ${e.sync} ${from}→${to} but it was ${current}`);
      if (!(legal[from] ?? []).includes(to)) problems.push(`seq ${e.seq}: illegal ${from}→${to} for ${e.sync}`);
      state.set(e.sync, to);
    }
    if (e.type === "sync.finished" && String(e.data.state) !== current) {
      problems.push(`seq ${e.seq}: sync.finished ${String(e.data.state)} but ${e.sync} is ${current}`);
    }
  }
  return problems;
}

/** The final state of every sync in the log. */
export function syncStates(events: readonly ApiEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of events) {
    if (!e.sync) continue;
    if (e.type === "sync.queued") out.set(e.sync, "queued");
    else if (e.type === "sync.state") out.set(e.sync, String(e.data.to));
  }
  return out;
}

/**
 * The stored log is gapless and legal, `deployment.events(since)` returns exactly its tail for
 * a few `since` values, and the published events (once they arrived) equal the stored ones.
 */
export async function expectConsistentLog(
  api: EngineClient,
  deployment: string,
  /** The client connected after the first events: it must have the stored tail since it joined, without gaps. */
  options: { joinedLate?: boolean } = {},
): Promise<ApiEvent[]> {
  const stored = await api.allEvents(deployment);
  expect(eventLogProblems(stored)).toEqual([]);
  const view = await api.get(deployment);
  expect(view.seq).toBe(stored.length);
  for (const since of [1, Math.floor(stored.length / 2), stored.length - 1]) {
    if (since < 0) continue;
    expect(await api.allEvents(deployment, since)).toEqual(stored.slice(since));
  }
  const last = stored[stored.length - 1]?.seq ?? 0;
  const deadline = Date.now() + 5_000;
  const received = () => api.published.get(deployment) ?? [];
  while (!received().some((e) => e.seq === last) && Date.now() < deadline) await sleep(50);
  const published = [...received()].sort((a, b) => a.seq - b.seq);
  if (options.joinedLate) {
    expect(published.length).toBeGreaterThan(0);
    expect(published).toEqual(stored.slice(stored.length - published.length));
  } else {
    expect(published).toEqual(stored);
  }
  return stored;
}

export interface Activation {
  readonly what: "start" | "end" | "deactivate";
  readonly sync: string;
  readonly epoch: string;
  readonly generation: string;
  readonly out: string;
  /** Unix time in ms when the line was written (start/end). */
  readonly atMs: number;
}

export async function readActivations(targetDir: string): Promise<Activation[]> {
  let text: string;
  try {
    text = await readFile(join(targetDir, "activations.log"), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [what, sync, epoch, generation, out, at] = l.split(" ");
      if (what === "deactivate") return { what, sync: sync ?? "", epoch: epoch ?? "", generation: "", out: generation ?? "", atMs: NaN };
      return { what: what as Activation["what"], sync: sync ?? "", epoch: epoch ?? "", generation: generation ?? "", out: out ?? "", atMs: Number(at) * 1000 };
    });
}

export async function readMarker(targetDir: string): Promise<{ sync: string; generation: number; secret: string; out: string; configuration: Record<string, unknown> } | null> {
  try {
    return JSON.parse(await readFile(join(targetDir, "engine.json"), "utf8")) as { sync: string; generation: number; secret: string; out: string; configuration: Record<string, unknown> };
  } catch {
    return null;
  }
}
