/**
 * The evaluator used when nix-eval-jobs is not on PATH (docs/nix.md, "The nix-instantiate fallback"): one
 * `nix-instantiate --eval --strict --json --read-write-mode` walker over the whole tree; jobs whose
 * `throw`/`assert` the walker caught are re-evaluated one by one to get their message; after an
 * uncatchable error the tree is split and evaluated per attribute (with `--log-format
 * internal-json --show-trace`), so every broken job gets its own error, as with nix-eval-jobs.
 */
import { attrName, type EvalJob } from "./eval-jobs.js";
import { EvalFailedError, parseNixError, type EvalErrorInfo } from "./nix-errors.js";
import { runNix, type NixRunOptions } from "./nix-process.js";

export interface FallbackRun {
  readonly walkerFile: string;
  readonly argstrs: Readonly<Record<string, string>>;
  readonly workers: number;
  readonly forceRecurse: boolean;
  readonly ignoreFiles: readonly string[];
}

interface WalkerJob {
  attrPath: string[];
  failed?: boolean;
  drvPath?: string;
  name?: string;
  system?: string;
  outputs?: Record<string, string>;
}

interface WalkerNames {
  isDerivation: boolean;
  isAttrs: boolean;
  recurse: boolean;
  names: string[];
}

type WalkerResult<T> = { ok: true; value: T } | { ok: false; error: EvalErrorInfo };

async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
  return results;
}

export async function runFallback(run: FallbackRun, options: NixRunOptions): Promise<EvalJob[]> {
  const call = async <T>(mode: "all" | "names", prefix: readonly string[], strict: boolean, trace: boolean): Promise<WalkerResult<T>> => {
    const args = ["--eval", "--strict", "--json", "--read-write-mode", "--log-format", "internal-json"];
    if (trace) args.push("--show-trace");
    args.push(run.walkerFile);
    for (const [k, v] of Object.entries(run.argstrs)) args.push("--argstr", k, v);
    args.push(
      "--argstr", "mode", mode,
      "--argstr", "prefixJson", JSON.stringify(prefix),
      "--argstr", "forceRecurse", run.forceRecurse ? "1" : "0",
      "--argstr", "strict", strict ? "1" : "0",
    );
    const r = await runNix("nix-instantiate", args, options);
    if (r.exitCode === 0) return { ok: true, value: JSON.parse(r.stdout) as T };
    const error = parseNixError(r.stderr, run.ignoreFiles) ?? {
      code: "eval_failed" as const,
      message: `nix-instantiate exited with code ${r.exitCode}`,
      detail: r.stderr.trim().slice(-4000),
      file: null,
      line: null,
      column: null,
    };
    return { ok: false, error };
  };

  const errorJob = (attrPath: readonly string[], error: EvalErrorInfo): EvalJob => {
    const attr = attrName(attrPath);
    return { attr, attrPath, drvPath: null, outputs: {}, error: { ...error, attr } };
  };

  /** Walker output → jobs; caught failures are re-run strictly for their message. */
  const finish = async (listed: readonly WalkerJob[]): Promise<EvalJob[]> =>
    pool(listed, run.workers, async (j): Promise<EvalJob> => {
      if (j.failed || j.drvPath === undefined) {
        const strict = await call<WalkerJob[]>("all", j.attrPath, true, true);
        if (!strict.ok) return errorJob(j.attrPath, strict.error);
        // It evaluated this time (an impure expression): take the result.
        const again = strict.value.find((x) => !x.failed && x.drvPath !== undefined);
        if (!again) return errorJob(j.attrPath, { code: "eval_failed", message: "evaluation failed", detail: "", file: null, line: null, column: null });
        j = again;
      }
      return {
        attr: attrName(j.attrPath),
        attrPath: j.attrPath,
        drvPath: j.drvPath ?? null,
        outputs: j.outputs ?? {},
        ...(j.name !== undefined ? { name: j.name } : {}),
        ...(j.system !== undefined ? { system: j.system } : {}),
      };
    });

  /** Evaluates the subtree at `prefix`, splitting it further after an uncatchable error. */
  const subtree = async (prefix: readonly string[], first: WalkerResult<WalkerJob[]> | null): Promise<EvalJob[]> => {
    const all = first ?? (await call<WalkerJob[]>("all", prefix, false, true));
    if (all.ok) return finish(all.value);
    const names = await call<WalkerNames>("names", prefix, false, true);
    if (!names.ok) {
      if (prefix.length === 0) throw new EvalFailedError([names.error]);
      return [errorJob(prefix, names.error)];
    }
    const n = names.value;
    if (n.isDerivation || !n.isAttrs || !n.recurse || n.names.length === 0) {
      if (prefix.length === 0) throw new EvalFailedError([all.error]);
      return [errorJob(prefix, all.error)];
    }
    const parts = await pool(n.names, run.workers, (name) => subtree([...prefix, name], null));
    return parts.flat();
  };

  return subtree([], await call<WalkerJob[]>("all", [], false, false));
}
