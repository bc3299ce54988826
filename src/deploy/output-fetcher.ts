/**
 * Makes a build's outputs valid in the local store before activation. With the local scheduler
 * they already are (the check is one `nix-store --check-validity`); with a real rio-build they live
 * in rio-store and are copied from the configured store URL.
 */
import { nixEnv } from "../nix-env.js";
import { AppError } from "../errors.js";
import type { Redactor } from "./redactor.js";
import { expectSuccess, runProcess } from "./run-process.js";

export interface FetchOptions {
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  readonly onLine?: (text: string) => void;
}

export interface OutputFetcher {
  fetchOutputs(paths: readonly string[], opts: FetchOptions): Promise<void>;
}

export function createOutputFetcher(deps: { storeUrl?: string; killGraceMs: number }): OutputFetcher {
  const env = nixEnv(process.env);
  return {
    async fetchOutputs(paths, opts) {
      if (paths.length === 0) return;
      const run = { env, signal: opts.signal, redactor: opts.redactor, killGraceMs: deps.killGraceMs };
      const check = expectSuccess(
        await runProcess(["nix-store", "--check-validity", "--print-invalid", ...paths], { ...run, captureStdout: true }),
        "checking output validity",
      );
      const missing = check.stdout.split("\n").filter((l) => l.length > 0);
      if (missing.length === 0) return;
      if (deps.storeUrl === undefined) {
        throw new AppError("failed_precondition", `outputs not in the local store and no store URL configured: ${missing.join(" ")}`);
      }
      opts.onLine?.(`fetching ${missing.length} output(s) from ${deps.storeUrl}`);
      expectSuccess(
        await runProcess(["nix", "copy", "--from", deps.storeUrl, ...missing], { ...run, ...(opts.onLine ? { onLine: opts.onLine } : {}) }),
        `nix copy --from ${deps.storeUrl}`,
      );
    },
  };
}
