export { parseDerivation, type Derivation, type DrvOutput } from "./aterm.js";
export { buildDag, readDrvClosure, inlineMaxBytes, inlineBudgetBytes, type DagBuildResult, type ParsedDrv } from "./dag-builder.js";
export {
  loadDeploymentTypes,
  parseDeploymentTypes,
  validateConfiguration,
  describeDeploymentTypes,
  defaultDeploymentTypesFile,
  type DeploymentType,
  type DeploymentTypes,
  type EntryPoint,
  type EvalSettings,
} from "./deployment-types.js";
export { parseEvalJobsLine, attrName, type EvalJob } from "./eval-jobs.js";
export { createEvaluator, planOf, sweepStaleWorkDirs, type Evaluator, type EvaluatorOptions, type EvaluateOptions, type EvaluationResult, type Plan, type PlanNode } from "./evaluator.js";
export { describeEvalError, describeEvalErrors, EvalFailedError, stripAnsi, type EvalErrorInfo } from "./nix-errors.js";
export { openGcRoots, type GcRoots } from "./gc-roots.js";
export { copyInputsToStore, isLocalStore, type CopyOptions, type CopyProgress, type CopyResult } from "./copy-inputs.js";
export { findInvalidPaths } from "./validity.js";
