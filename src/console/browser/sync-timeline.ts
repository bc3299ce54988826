/** The phase timeline of a sync as an ordered list (steps from sync-phases.ts). */
import { h } from "./dom.js";
import { duration, time } from "./format.js";
import type { PhaseStep } from "./sync-phases.js";

export function renderTimeline(steps: readonly PhaseStep[]): HTMLElement {
  return h(
    "ol",
    { class: "timeline" },
    ...steps.map((s) =>
      h(
        "li",
        { class: `step step-${s.state} phase-${s.phase}`, "aria-current": s.state === "current" ? "step" : false },
        h("span", { class: "step-name" }, s.phase.replace("_", " ")),
        h("span", { class: "step-time" }, s.at ? time(s.at) : s.state === "pending" ? "not yet" : ""),
        s.secs !== null ? h("span", { class: "step-secs" }, s.state === "current" ? `for ${duration(s.secs)}` : duration(s.secs)) : null,
      ),
    ),
  );
}
