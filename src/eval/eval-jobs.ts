/**
 * nix-eval-jobs: command line and output parser (docs/nix.md, "nix-eval-jobs"). Each stdout line is one job;
 * a line with `error` is that job's evaluation error, and evaluation goes on (rc 0). A non-zero
 * exit is fatal (the root failed, or a worker crashed).
 */
import { AppError } from "../errors.js";
import { errorFromText, EvalFailedError, parseNixError, type EvalErrorInfo } from "./nix-errors.js";
import { runNix, type NixRunOptions } from "./nix-process.js";

export interface EvalJob {
  /** attrPath joined with "."; names containing a dot are quoted (nix-eval-jobs' spelling). */
  readonly attr: string;
  readonly attrPath: readonly string[];
  /** null when the job failed to evaluate. */
  readonly drvPath: string | null;
  /** Output name → path (null for a floating content-addressed output). */
  readonly outputs: Readonly<Record<string, string | null>>;
  readonly name?: string;
  readonly system?: string;
  /** From --check-cache-status: "local" | "cached" | "notBuilt". */
  readonly cacheStatus?: string;
  readonly error?: EvalErrorInfo;
}

export function attrName(attrPath: readonly string[]): string {
  return attrPath.map((n) => (n.includes(".") ? JSON.stringify(n) : n)).join(".");
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** nix-eval-jobs printed something we cannot read: our failure (internal), never the caller's. */
const unexpected = (what: string, line: string): AppError => new AppError("internal", `unexpected nix-eval-jobs output: ${what}: ${line.slice(0, 200)}`);

/**
 * Parses one nix-eval-jobs output line. Returns null for blank lines.
 * @throws AppError internal on a line that is not a job object.
 */
export function parseEvalJobsLine(line: string, ignoreFiles: readonly string[] = []): EvalJob | null {
  if (line.trim() === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw unexpected("not JSON", line);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw unexpected("not a job line", line);
  const o = v as Record<string, unknown>;
  const attrPath = isStringArray(o.attrPath) ? o.attrPath : typeof o.attr === "string" ? [o.attr] : null;
  if (attrPath === null) throw unexpected("line without attrPath", line);
  const attr = typeof o.attr === "string" ? o.attr : attrName(attrPath);
  if (typeof o.error === "string") {
    return { attr, attrPath, drvPath: null, outputs: {}, error: { ...errorFromText(o.error, ignoreFiles), attr } };
  }
  if (typeof o.drvPath !== "string") throw unexpected("line without drvPath or error", line);
  const outputs: Record<string, string | null> = {};
  if (o.outputs !== null && typeof o.outputs === "object") {
    for (const [k, p] of Object.entries(o.outputs as Record<string, unknown>)) outputs[k] = typeof p === "string" ? p : null;
  }
  return {
    attr,
    attrPath,
    drvPath: o.drvPath,
    outputs,
    ...(typeof o.name === "string" ? { name: o.name } : {}),
    ...(typeof o.system === "string" ? { system: o.system } : {}),
    ...(typeof o.cacheStatus === "string"
      ? { cacheStatus: o.cacheStatus }
      : typeof o.isCached === "boolean"
        ? { cacheStatus: o.isCached ? "local" : "notBuilt" }
        : {}),
  };
}

export interface EvalJobsRun {
  readonly exprFile: string;
  readonly argstrs: Readonly<Record<string, string>>;
  readonly workers: number;
  readonly maxMemoryMib: number;
  readonly gcRootsDir: string;
  readonly forceRecurse: boolean;
  readonly ignoreFiles: readonly string[];
}

export function evalJobsArgs(run: EvalJobsRun): string[] {
  const args = [
    "--workers", String(run.workers),
    "--max-memory-size", String(run.maxMemoryMib),
    "--gc-roots-dir", run.gcRootsDir,
    "--check-cache-status",
  ];
  if (run.forceRecurse) args.push("--force-recurse");
  for (const [k, v] of Object.entries(run.argstrs)) args.push("--argstr", k, v);
  args.push(run.exprFile);
  return args;
}

export async function runEvalJobs(run: EvalJobsRun, options: NixRunOptions): Promise<EvalJob[]> {
  const r = await runNix("nix-eval-jobs", evalJobsArgs(run), options);
  if (r.exitCode !== 0) {
    const err = parseNixError(r.stderr, run.ignoreFiles) ?? {
      code: "eval_failed" as const,
      message: `nix-eval-jobs exited with code ${r.exitCode}`,
      detail: r.stderr.trim().slice(-4000),
      file: null,
      line: null,
      column: null,
    };
    throw new EvalFailedError([err]);
  }
  const jobs: EvalJob[] = [];
  for (const line of r.stdout.split("\n")) {
    const job = parseEvalJobsLine(line, run.ignoreFiles);
    if (job) jobs.push(job);
  }
  return jobs;
}
