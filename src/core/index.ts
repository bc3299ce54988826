/** The pure domain rules: states, transitions, submit and cancel decisions, events. No I/O. */
export * from "./assert-never.js";
export * from "./canonical-json.js";
export * from "./cancel.js";
export * from "./commits.js";
export * from "./deployment-state.js";
export * from "./events.js";
export * from "./limits.js";
export * from "./nesting.js";
export * from "./results.js";
export * from "./submit.js";
export * from "./sync-error.js";
export * from "./sync-state.js";
export * from "./transition.js";
export * from "./views.js";
export { priorityClasses } from "./dag.js";
export type { PriorityClass } from "./dag.js";
