/**
 * The local rio-build-compatible scheduler (docs/local-scheduler.md): the in-process
 * factory, the `scheduler` CLI command, and the build-id header name clients read.
 */
export {
  createLocalScheduler,
  parseListen,
  type InjectedEventKind,
  type LocalScheduler,
  type LocalSchedulerOptions,
  type SchedulerFaults,
} from "./local-scheduler.js";
export { runSchedulerCommand } from "./command.js";
export { buildIdHeader } from "./scheduler-service.js";
