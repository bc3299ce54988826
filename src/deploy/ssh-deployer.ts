/**
 * Deploys to a remote host: copies the outputs' closure there (`nix copy --to ssh://…`, ssh
 * options through NIX_SSHOPTS), then keeps the same per-deployment profile as the local deployer,
 * under the remote state directory, and runs the activation scripts over ssh.
 */
import { nixEnv } from "../nix-env.js";
import type { DeployerConfig } from "./config.js";
import { createOutputFetcher } from "./output-fetcher.js";
import { createProfileDeployer } from "./profile-deployer.js";
import { defaultKillGraceMs, expectSuccess, runProcess } from "./run-process.js";
import { createSshHost, nixSshOpts, remoteNixConfig, sshDestination, type SshTarget } from "./ssh-host.js";
import type { Deployer, DeployerDeps } from "./types.js";

export function createSshDeployer(config: Extract<DeployerConfig, { kind: "ssh" }>, deps: DeployerDeps): Deployer {
  const killGraceMs = deps.killGraceMs ?? defaultKillGraceMs;
  const target: SshTarget = {
    host: config.host,
    user: config.user,
    port: config.port,
    identityFile: config.identity_file,
    options: config.ssh_options,
  };
  const fetcher = createOutputFetcher({ killGraceMs, ...(deps.storeUrl ? { storeUrl: deps.storeUrl } : {}) });
  return createProfileDeployer({
    kind: "ssh",
    host: createSshHost(target, killGraceMs),
    stateDir: config.state_dir,
    rollbackOnFailure: config.rollback_on_failure,
    async prepare(outputs, op) {
      await fetcher.fetchOutputs(outputs, op);
      op.onLine(`copying ${outputs.length} output closure(s) to ${sshDestination(target)}`);
      const env = { ...nixEnv(process.env), NIX_SSHOPTS: op.session.nixSshOpts ?? nixSshOpts(target) };
      // Paths already valid remotely are skipped by nix copy itself: a re-run is cheap.
      const res = await runProcess(["nix", "copy", "--to", copyUrl(target), ...outputs], {
        env,
        signal: op.signal,
        redactor: op.redactor,
        onLine: op.onLine,
        killGraceMs,
      });
      expectSuccess(res, `nix copy to ${sshDestination(target)}`);
    },
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

/**
 * The remote end of `nix copy` is `nix-store --serve --write`, started through the remote shell;
 * wrapping it in `remote-program` gives it our NIX_CONFIG like every other remote nix command.
 */
function copyUrl(target: SshTarget): string {
  const config = Buffer.from(remoteNixConfig(), "utf8").toString("base64");
  const program = `sh -c 'NIX_CONFIG="$(printf %s ${config} | base64 -d)" exec nix-store "$@"' sh`;
  return `ssh://${sshDestination(target)}?remote-program=${encodeURIComponent(program)}`;
}
