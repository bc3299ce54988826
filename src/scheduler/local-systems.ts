/**
 * The systems the local Nix builds for, i.e. what this scheduler's executors advertise: Nix's
 * `system` and `extra-platforms`, plus `builtin`, which every rio executor appends.
 */
import { AppError } from "../errors.js";
import { runNix } from "../eval/nix-process.js";

interface ConfigValue {
  readonly value?: unknown;
}

export async function localSystems(): Promise<string[]> {
  const r = await runNix("nix", ["show-config", "--json"], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new AppError("unavailable", `nix show-config failed (rc ${r.exitCode}): ${r.stderr.trim().slice(-500)}`);
  const config = JSON.parse(r.stdout) as Record<string, ConfigValue | undefined>;
  const system = config.system?.value;
  if (typeof system !== "string" || system === "") throw new AppError("unavailable", "nix show-config reported no system");
  const extra = config["extra-platforms"]?.value;
  const platforms = Array.isArray(extra) ? extra.filter((p): p is string => typeof p === "string") : [];
  return [...new Set([system, ...platforms, "builtin"])];
}
