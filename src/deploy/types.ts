/**
 * The contract between the runner and the deployers. A deployer makes a build result live on its
 * target (apply), removes it (teardown) or makes the previous generation live again (rollback).
 */
import type { Logger } from "pino";

/** Where deploy output lines go; `source` is always "deploy" (build lines come from elsewhere). */
export type DeployLineSink = (source: "deploy", text: string) => void;

export interface GenerationOutputs {
  /** The deployment's generation number (not the Nix profile's). */
  readonly generation: number;
  /** Top-level output store paths, each with bin/activate and bin/deactivate. */
  readonly outputs: readonly string[];
}

export interface DeployContext {
  readonly tenant: string;
  readonly deployment: string;
  readonly sync: string;
  /** The generation made live (apply: the new one; rollback: the stored one) or torn down. */
  readonly generation: number;
  /** Outputs to activate, in activation order (rollback: the stored generation's); teardown: the live ones. */
  readonly outputs: readonly string[];
  /** The generation live before this operation: made live again when activation fails. */
  readonly previous?: GenerationOutputs | null;
  /** Operator-referenced secret files: `{ ENV_NAME: "/path/to/file" }`. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Budget for the whole operation; the automatic rollback after a failure gets a fresh one. */
  readonly timeoutMs?: number;
  readonly onLine: DeployLineSink;
}

export interface Deployer {
  readonly kind: "local" | "ssh" | "command";
  /** Makes ctx.outputs live as generation ctx.generation; safe to re-run for the same sync. */
  apply(ctx: DeployContext): Promise<DeployResult>;
  /** Deactivates what is live and forgets it; a re-run with nothing live is a no-op. */
  teardown(ctx: DeployContext): Promise<DeployResult>;
  /**
   * Makes a stored generation (ctx.outputs, ctx.generation) live again without a build: local/ssh
   * switch the profile to its stored Nix generation; command runs its rollback template (or the
   * apply template with these outputs).
   */
  rollback(ctx: DeployContext): Promise<DeployResult>;
}

export interface DeployResult {
  /** The outputs live after the operation (empty after teardown). */
  readonly outputs: readonly string[];
  /** The Nix profile generation now current, when the deployer keeps a profile. */
  readonly profileGeneration: number | null;
}

export interface DeployerDeps {
  /** The service's state directory: profiles and targets of local deployments live under it. */
  readonly stateDir: string;
  /** A Nix store URL outputs are fetched from before activation (rio-store); unset = local. */
  readonly storeUrl?: string;
  /** Time between SIGTERM and SIGKILL of a cancelled process group. Default 5000 ms. */
  readonly killGraceMs?: number;
  readonly logger?: Logger;
}
