/** Short texts and widgets about a sync, shared by the list and the deployment page. */
import type { BuildCounters, SyncView } from "./api-types.js";
import { h } from "./dom.js";
import { duration, plural } from "./format.js";

export function progressText(b: BuildCounters | null): string {
  if (!b || b.total === 0) return "";
  const done = b.completed + b.cached;
  const parts = [`${done} of ${plural(b.total, "derivation")} done`];
  if (b.cached > 0) parts.push(`${b.cached} cached`);
  if (b.running > 0) parts.push(`${b.running} running`);
  if (b.failed > 0) parts.push(`${b.failed} failed`);
  return parts.join(", ");
}

export function etaText(b: BuildCounters | null): string {
  const s = b?.critical_path_remaining_secs;
  return s === null || s === undefined || s <= 0 ? "" : `about ${duration(s)} left`;
}

/** A <progress> with its text beside it (the text is what screen readers read). */
export function progressWidget(b: BuildCounters | null): HTMLElement {
  const wrap = h("span", { class: "progress" });
  if (!b || b.total === 0) return wrap;
  const done = b.completed + b.cached;
  const text = progressText(b);
  wrap.append(h("progress", { max: b.total, value: done, "aria-hidden": "true" }), h("span", {}, text));
  return wrap;
}

export function stateBadge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state}` }, state.replace("_", " "));
}

export function syncPhase(sync: SyncView | null): string {
  if (!sync) return "";
  if (sync.state === "queued" && sync.position !== null && sync.position > 0) return `queued (${plural(sync.position, "sync")} ahead)`;
  return sync.state.replace("_", " ");
}

export function errorText(sync: SyncView | null): string {
  if (!sync?.error) return "";
  return `${sync.error.code.replace("_", " ")}: ${sync.error.message}`;
}
