/**
 * Puts what rio's builders fetch from rio-store into the target store (docs/rio-build.md, behaviour 13): every .drv
 * that is not inlined in the DAG and every `inputSrcs` path. Paths the store already has are
 * skipped (one batched validity check against it first); `nix copy --derivation` then copies the
 * rest with their references.
 */
import { readFile } from "node:fs/promises";
import type { BuildDag } from "../core/dag.js";
import { AppError } from "../errors.js";
import { parseDerivation } from "./aterm.js";
import { stripAnsi } from "./nix-errors.js";
import { runNix } from "./nix-process.js";
import { findInvalidPaths } from "./validity.js";

export interface CopyProgress {
  readonly copied: number;
  readonly total: number;
  /** The path just copied. */
  readonly path: string;
}

export interface CopyOptions {
  /** Target store URL (`ssh-ng://gateway`, `file:///cache`, `local?root=/x`, …). */
  readonly storeUrl: string;
  /** For messages and logs (rio tenants are bound to the store credentials, not to this call). */
  readonly tenant?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: CopyProgress) => void;
}

export interface CopyResult {
  /** True when the target is the local store: nothing to do. */
  readonly skipped: boolean;
  /** Non-inlined .drv files and input sources the builders need. */
  readonly needed: readonly string[];
  /** The subset of `needed` the target lacked before copying. */
  readonly missing: readonly string[];
  /** Every path `nix copy` reported copying (the missing paths and any references it lacked). */
  readonly copied: readonly string[];
}

/** Whether a store URL names the local store the evaluator already wrote to. */
export function isLocalStore(storeUrl: string | undefined): boolean {
  if (storeUrl === undefined) return true;
  const u = storeUrl.trim();
  return u === "" || u === "auto" || u === "local" || u === "daemon" || u === "unix://" || u === "/nix/store";
}

/** The paths builders need from the store for this DAG. */
export async function neededStorePaths(dag: BuildDag): Promise<string[]> {
  const needed = new Set<string>();
  for (const node of dag.nodes) {
    if (!node.drvContent) needed.add(node.drvPath);
    const drv = parseDerivation(await readFile(node.drvPath, "utf8"));
    for (const src of drv.inputSrcs) needed.add(src);
  }
  return [...needed];
}

const maxArgBytes = 1_000_000;

export async function copyInputsToStore(dag: BuildDag, options: CopyOptions): Promise<CopyResult> {
  if (isLocalStore(options.storeUrl)) return { skipped: true, needed: [], missing: [], copied: [] };
  const who = options.tenant ? ` for tenant ${options.tenant}` : "";
  const needed = await neededStorePaths(dag);
  let invalid: Set<string>;
  try {
    invalid = await findInvalidPaths(needed, { storeUrl: options.storeUrl, signal: options.signal, timeoutMs: options.timeoutMs });
  } catch (err) {
    if (AppError.is(err, "unavailable")) {
      throw new AppError("unavailable", `cannot query store ${options.storeUrl}${who}: ${err.message}`, undefined, { cause: err });
    }
    throw err;
  }
  const missing = needed.filter((p) => invalid.has(p));
  const copied: string[] = [];
  let total = missing.length;
  // `nix copy --derivation` copies .drv files themselves; other paths (sources) are plain
  // installables, which `--derivation` would misread as "the deriver of this path".
  const batches: { derivation: boolean; paths: string[] }[] = [];
  for (const derivation of [true, false]) {
    let batch: string[] = [];
    let bytes = 0;
    for (const p of missing.filter((m) => m.endsWith(".drv") === derivation)) {
      if (bytes + p.length > maxArgBytes && batch.length > 0) {
        batches.push({ derivation, paths: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(p);
      bytes += p.length + 1;
    }
    if (batch.length > 0) batches.push({ derivation, paths: batch });
  }

  for (const { derivation, paths } of batches) {
    const active = new Map<number, string>();
    const errors: string[] = [];
    const onLine = (line: string): void => {
      if (!line.startsWith("@nix {")) return;
      let m: { action?: string; id?: number; type?: number; level?: number; fields?: unknown[]; text?: string; msg?: string };
      try {
        m = JSON.parse(line.slice(5)) as typeof m;
      } catch {
        return;
      }
      if (m.action === "start" && m.type === 103 && typeof m.text === "string") {
        const n = /copying (\d+) paths?/.exec(m.text);
        if (n?.[1]) total = Math.max(total, copied.length + Number(n[1]));
      } else if (m.action === "start" && m.type === 100 && typeof m.id === "number" && typeof m.fields?.[0] === "string") {
        active.set(m.id, m.fields[0]);
      } else if (m.action === "stop" && typeof m.id === "number") {
        const path = active.get(m.id);
        if (path !== undefined) {
          active.delete(m.id);
          copied.push(path);
          options.onProgress?.({ copied: copied.length, total: Math.max(total, copied.length), path });
        }
      } else if (m.action === "msg" && m.level === 0 && typeof m.msg === "string") {
        errors.push(stripAnsi(m.msg));
      }
    };
    const r = await runNix(
      "nix",
      ["copy", ...(derivation ? ["--derivation"] : []), "--no-check-sigs", "--to", options.storeUrl, "--log-format", "internal-json", "-v", ...paths],
      { signal: options.signal, timeoutMs: options.timeoutMs, onStderrLine: onLine },
    );
    if (r.exitCode !== 0) {
      const why = errors.filter((e) => e.startsWith("error")).join("\n") || `nix copy exited with code ${r.exitCode}`;
      throw new AppError("unavailable", `copying ${paths.length} path(s) to ${options.storeUrl}${who} failed: ${why}`);
    }
  }
  return { skipped: false, needed, missing, copied };
}
