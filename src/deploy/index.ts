/** The deployers' public surface. */
export { deployerConfigSchema, type DeployerConfig, type DeployerKind } from "./config.js";
export { createDeployer } from "./create-deployer.js";
export { createLocalDeployer } from "./local-deployer.js";
export { createSshDeployer } from "./ssh-deployer.js";
export { createCommandDeployer, renderTemplate } from "./command-deployer.js";
export { createOutputFetcher, type OutputFetcher } from "./output-fetcher.js";
export { createRedactor, REDACTED, type Redactor } from "./redactor.js";
export { loadSecrets } from "./secrets.js";
export { profileDir, targetDir } from "./profile-deployer.js";
export type { DeployContext, Deployer, DeployerDeps, DeployLineSink, DeployResult, GenerationOutputs } from "./types.js";
