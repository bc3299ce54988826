/**
 * Which store paths a store lacks, with one batched
 * `nix-store --check-validity --print-invalid` (it prints only the invalid ones, rc 0).
 */
import { AppError } from "../errors.js";
import { runNix } from "./nix-process.js";

/** argv budget per call; 2,000 paths take about 120 KB, so a typical DAG is one call. */
const maxArgBytes = 1_000_000;

export interface ValidityOptions {
  /** `--store <url>`; the local store when absent. */
  readonly storeUrl?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Returns the subset of `paths` that are not valid in the store. */
export async function findInvalidPaths(paths: Iterable<string>, options: ValidityOptions = {}): Promise<Set<string>> {
  const unique = [...new Set(paths)].filter((p) => p !== "");
  const invalid = new Set<string>();
  let batch: string[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const args = [...(options.storeUrl ? ["--store", options.storeUrl] : []), "--check-validity", "--print-invalid", ...batch];
    const r = await runNix("nix-store", args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 120_000 });
    if (r.exitCode !== 0) {
      throw new AppError("unavailable", `nix-store --check-validity failed (rc ${r.exitCode}): ${r.stderr.trim().slice(-500)}`);
    }
    for (const line of r.stdout.split("\n")) if (line !== "") invalid.add(line);
    batch = [];
    bytes = 0;
  };
  for (const p of unique) {
    if (bytes + p.length + 1 > maxArgBytes) await flush();
    batch.push(p);
    bytes += p.length + 1;
  }
  await flush();
  return invalid;
}

/**
 * NAR sizes of store paths from `nix path-info --json` (best effort, like rio-gateway's
 * input_srcs_nar_size): paths it cannot tell about are left out. Accepts both JSON shapes (an
 * array up to Nix 2.18, a map from 2.19 on).
 */
export async function narSizes(paths: Iterable<string>, options: ValidityOptions = {}): Promise<Map<string, number>> {
  const unique = [...new Set(paths)].filter((p) => p !== "");
  const sizes = new Map<string, number>();
  if (unique.length === 0) return sizes;
  try {
    const r = await runNix("nix", ["path-info", "--json", ...unique], { signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000 });
    if (r.exitCode !== 0) return sizes;
    const doc = JSON.parse(r.stdout) as unknown;
    const entries: [string, unknown][] = Array.isArray(doc)
      ? doc.map((e: unknown) => [String((e as { path?: unknown }).path), e])
      : doc !== null && typeof doc === "object"
        ? Object.entries(doc)
        : [];
    for (const [path, info] of entries) {
      const size = (info as { narSize?: unknown } | null)?.narSize;
      if (typeof size === "number") sizes.set(path, size);
    }
  } catch (err) {
    if (AppError.is(err, "cancelled") || AppError.is(err, "timeout")) throw err;
  }
  return sizes;
}
