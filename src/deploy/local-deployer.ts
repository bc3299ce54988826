/**
 * Deploys on this machine: a Nix profile per deployment under the state directory, activation
 * scripts run with FEDIVERSITY_TARGET_DIR=<stateDir>/targets/<tenant>/<deployment>.
 */
import type { DeployerConfig } from "./config.js";
import { createLocalHost } from "./host.js";
import { createOutputFetcher } from "./output-fetcher.js";
import { createProfileDeployer } from "./profile-deployer.js";
import { defaultKillGraceMs } from "./run-process.js";
import type { Deployer, DeployerDeps } from "./types.js";

export function createLocalDeployer(config: Extract<DeployerConfig, { kind: "local" }>, deps: DeployerDeps): Deployer {
  const killGraceMs = deps.killGraceMs ?? defaultKillGraceMs;
  const fetcher = createOutputFetcher({ killGraceMs, ...(deps.storeUrl ? { storeUrl: deps.storeUrl } : {}) });
  return createProfileDeployer({
    kind: "local",
    host: createLocalHost(killGraceMs),
    stateDir: deps.stateDir,
    rollbackOnFailure: config.rollback_on_failure,
    prepare: (outputs, op) => fetcher.fetchOutputs(outputs, op),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
