/** The application service: the port the API calls (port.ts) and its implementation over the store, runner, evaluator and rio. */
export { createDeploymentService, type DeploymentServiceDeps } from "./deployment-service.js";
export type * from "./port.js";
