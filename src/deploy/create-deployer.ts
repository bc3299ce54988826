/** Chooses the deployer for a deployment type's `deployer` config. */
import { assertNever } from "../core/index.js";
import { createCommandDeployer } from "./command-deployer.js";
import type { DeployerConfig } from "./config.js";
import { createLocalDeployer } from "./local-deployer.js";
import { createSshDeployer } from "./ssh-deployer.js";
import type { Deployer, DeployerDeps } from "./types.js";

export function createDeployer(config: DeployerConfig, deps: DeployerDeps): Deployer {
  switch (config.kind) {
    case "local":
      return createLocalDeployer(config, deps);
    case "ssh":
      return createSshDeployer(config, deps);
    case "command":
      return createCommandDeployer(config, deps);
    default:
      return assertNever(config, "deployer kind");
  }
}
