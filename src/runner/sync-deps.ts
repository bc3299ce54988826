/** What running a sync needs: the store, the evaluator, rio, the deployers, the phase timeouts. */
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import type { Deployer } from "../deploy/index.js";
import type { DeploymentType, Evaluator } from "../eval/index.js";
import type { ServiceMetrics } from "../metrics.js";
import type { RioClient } from "../rio/index.js";
import type { Store } from "../store/index.js";
import type { Slots } from "./slots.js";

export interface PhaseTimeouts {
  readonly evalMs: number;
  readonly buildMs: number;
  readonly deployMs: number;
}

export interface SyncRunDeps {
  readonly store: Store;
  readonly evaluator: Evaluator;
  readonly rio: RioClient;
  readonly deploymentType: (name: string) => DeploymentType;
  readonly deployerFor: (type: DeploymentType) => Deployer;
  /** Copies the DAG's inputs to rio-store before submitting (real rio-build only). */
  readonly copyInputs?: (dag: BuildDag, tenant: string, signal: AbortSignal) => Promise<void>;
  /** Makes sure rio knows the tenant (rio answers invalid_argument for unknown tenant names). */
  readonly ensureTenant: (tenant: string) => Promise<void>;
  readonly timeouts: PhaseTimeouts;
  /** Bounds concurrent Nix evaluations (each is a process tree); unbounded when absent. */
  readonly evaluationSlots?: Slots;
  readonly logger: Logger;
  readonly metrics?: ServiceMetrics;
}
