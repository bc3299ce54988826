/**
 * The evaluator: a deployment type + a configuration → jobs (one per top-level output) and the
 * derivation DAG, ready for rio. The configuration reaches Nix only as data: it is written to a
 * JSON file that entry.nix reads with builtins.readFile + builtins.fromJSON.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import { AppError } from "../errors.js";
import { buildDag, type ParsedDrv } from "./dag-builder.js";
import { validateConfiguration, type DeploymentType } from "./deployment-types.js";
import { runEvalJobs, type EvalJob } from "./eval-jobs.js";
import { runFallback } from "./fallback.js";
import { openGcRoots, type GcRoots } from "./gc-roots.js";
import { EvalFailedError } from "./nix-errors.js";
import { isOnPath, type NixRunOptions } from "./nix-process.js";

const entryFile = fileURLToPath(new URL("./entry.nix", import.meta.url));
const walkerFile = fileURLToPath(new URL("./walker.nix", import.meta.url));
/** Positions inside our wrappers are skipped when locating an error. */
const ourFiles = [entryFile, walkerFile];

export interface EvaluatorOptions {
  readonly logger?: Logger;
  /** Parent of the per-evaluation GC-root directories. */
  readonly gcRootsDir: string;
  /** Where configuration files are written (default: the OS temp dir). */
  readonly workDir?: string;
  /** "auto" (default): nix-eval-jobs when on PATH, else the nix-instantiate fallback. */
  readonly engine?: "auto" | "nix-eval-jobs" | "fallback";
}

export interface EvaluateOptions {
  readonly signal?: AbortSignal;
  /** Overrides the type's eval timeout. */
  readonly timeoutMs?: number;
  /** Names the GC-root directory (e.g. the sync id; one evaluation per key: a failed evaluation removes it); random when absent. */
  readonly rootsKey?: string;
  /** Skip the schema check (the caller already validated). */
  readonly skipValidation?: boolean;
}

export interface EvaluationResult {
  readonly engine: "nix-eval-jobs" | "fallback";
  readonly jobs: readonly EvalJob[];
  /** DAG of the jobs that evaluated (roots = their .drv paths, in job order). */
  readonly dag: BuildDag;
  readonly derivations: ReadonlyMap<string, ParsedDrv>;
  /** Directory of the GC roots that keep the .drv files alive. */
  readonly gcRootsDir: string;
  /** Drops the GC roots. Idempotent. */
  release(): Promise<void>;
}

export interface PlanNode {
  readonly drv: string;
  readonly pname: string;
  readonly cached: boolean;
}

/** The docs/api.md `deployment.plan` result. */
export interface Plan {
  readonly derivations: number;
  readonly to_build: number;
  readonly cached: number;
  readonly nodes: readonly PlanNode[];
}

export interface Evaluator {
  evaluate(type: DeploymentType, configuration: unknown, options?: EvaluateOptions): Promise<EvaluationResult>;
  /** Evaluates, reports what would be built, builds nothing; roots are released. */
  plan(type: DeploymentType, configuration: unknown, options?: EvaluateOptions): Promise<Plan>;
}

export function planOf(dag: BuildDag): Plan {
  const nodes = dag.nodes.map((n) => ({ drv: n.drvPath, pname: n.pname, cached: n.cached === true }));
  const cached = nodes.filter((n) => n.cached).length;
  return { derivations: nodes.length, to_build: nodes.length - cached, cached, nodes };
}

function entryJson(type: DeploymentType): string {
  const e = type.entry;
  return JSON.stringify(e.kind === "file" ? { file: e.file, attrPath: e.attrPath } : { flake: e.flake, attrPath: e.attrPath });
}

const workPrefix = "fediversity-eval-";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes configuration files left behind by evaluations of processes that died (kill -9 skips
 * every `finally`). Work dirs carry their owner's pid; those of live processes are kept.
 */
export async function sweepStaleWorkDirs(workDir: string = tmpdir()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = new RegExp(`^${workPrefix}(\\d+)-`).exec(name);
    if (!m?.[1] || isAlive(Number(m[1]))) continue;
    await rm(join(workDir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export function createEvaluator(options: EvaluatorOptions): Evaluator {
  const log = options.logger;
  let swept: Promise<unknown> | undefined;
  let engineChoice: Promise<"nix-eval-jobs" | "fallback"> | undefined;
  const engine = (): Promise<"nix-eval-jobs" | "fallback"> => {
    if (options.engine && options.engine !== "auto") return Promise.resolve(options.engine);
    engineChoice ??= isOnPath("nix-eval-jobs").then((yes) => (yes ? "nix-eval-jobs" : "fallback"));
    return engineChoice;
  };

  async function evaluate(type: DeploymentType, configuration: unknown, opts: EvaluateOptions = {}): Promise<EvaluationResult> {
    if (!opts.skipValidation) validateConfiguration(type, configuration);
    const timeoutMs = opts.timeoutMs ?? type.eval.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort();
    if (opts.signal?.aborted) controller.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    let work: string | undefined;
    let roots: GcRoots | undefined;
    const started = Date.now();
    try {
      const which = await engine();
      swept ??= sweepStaleWorkDirs(options.workDir).catch(() => 0);
      work = await mkdtemp(join(options.workDir ?? tmpdir(), `${workPrefix}${process.pid}-`));
      const cfgPath = join(work, "configuration.json");
      await writeFile(cfgPath, JSON.stringify(configuration), { mode: 0o600 });
      roots = await openGcRoots(join(options.gcRootsDir, opts.rootsKey ?? randomUUID()));
      const argstrs = { entryJson: entryJson(type), cfgPath };
      // nix-eval-jobs bounds its workers itself (--max-memory-size); nix-instantiate gets the same
      // budget as a cap on Boehm GC's heap (bytes: GC_MAXIMUM_HEAP_SIZE takes no suffix in Nix 2.8's
      // libgc), so an evaluation that allocates without bound fails with "out of memory".
      const run: NixRunOptions = {
        signal: controller.signal,
        ...(which === "fallback" ? { env: { GC_MAXIMUM_HEAP_SIZE: String(type.eval.maxMemoryMib * 1024 * 1024) } } : {}),
      };
      let jobs: EvalJob[];
      if (which === "nix-eval-jobs") {
        jobs = await runEvalJobs(
          {
            exprFile: entryFile,
            argstrs,
            workers: type.eval.workers,
            maxMemoryMib: type.eval.maxMemoryMib,
            gcRootsDir: roots.dir,
            forceRecurse: type.eval.forceRecurse,
            ignoreFiles: ourFiles,
          },
          run,
        );
      } else {
        jobs = await runFallback(
          { walkerFile, argstrs, workers: type.eval.workers, forceRecurse: type.eval.forceRecurse, ignoreFiles: ourFiles },
          run,
        );
        // Nix says only "out of memory": name the limit that was hit.
        jobs = jobs.map((j) =>
          j.error?.message === "out of memory" ? { ...j, error: { ...j.error, message: `out of memory (evaluation memory limit: ${type.eval.maxMemoryMib} MiB)` } } : j,
        );
      }
      const drvPaths = jobs.flatMap((j) => (j.drvPath && !j.error ? [j.drvPath] : []));
      // nix-eval-jobs roots its jobs itself; adding them again is a no-op.
      await roots.add(drvPaths);
      const evalMs = Date.now() - started;
      const { dag, derivations } = await buildDag(drvPaths, { signal: controller.signal });
      log?.info(
        { deploymentType: type.name, engine: which, jobs: jobs.length, failed: jobs.filter((j) => j.error).length, nodes: dag.nodes.length, evalMs, totalMs: Date.now() - started },
        "evaluated",
      );
      const r = roots;
      return { engine: which, jobs, dag, derivations, gcRootsDir: r.dir, release: () => r.release() };
    } catch (err) {
      await roots?.release();
      if (timedOut) throw new AppError("timeout", `evaluation of ${type.name} timed out after ${timeoutMs} ms`, undefined, { cause: err });
      if (AppError.is(err, "cancelled")) throw new AppError("cancelled", `evaluation of ${type.name} was cancelled`, undefined, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    }
  }

  async function plan(type: DeploymentType, configuration: unknown, opts: EvaluateOptions = {}): Promise<Plan> {
    const result = await evaluate(type, configuration, opts);
    try {
      const failed = result.jobs.flatMap((j) => (j.error ? [j.error] : []));
      if (failed.length > 0) throw new EvalFailedError(failed);
      return planOf(result.dag);
    } finally {
      await result.release();
    }
  }

  return { evaluate, plan };
}
