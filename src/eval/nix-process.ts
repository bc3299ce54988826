/**
 * Runs one Nix command in its own process group, without a shell, with the service's Nix settings.
 * Timeouts and cancellation kill the whole group (nix-eval-jobs forks workers; nix-instantiate
 * may run builders for import-from-derivation), first with SIGTERM, then SIGKILL after a grace.
 */
import { execa } from "execa";
import { AppError } from "../errors.js";
import { nixEnv } from "../nix-env.js";
import { signalGroup, terminateGroup } from "../process-group.js";

export interface NixRunOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /** Extra environment on top of nixEnv(). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with each complete stderr line as it arrives. */
  readonly onStderrLine?: (line: string) => void;
  /** Grace between SIGTERM and SIGKILL. */
  readonly killGraceMs?: number;
  /** Called with the child's pid (= its process group id) once started. */
  readonly onSpawn?: (pid: number) => void;
  /** Output kept in memory per stream; a process writing more is killed (resource_exhausted). */
  readonly maxStdoutBytes?: number;
  readonly maxStderrBytes?: number;
}

/**
 * Default output bounds: a hostile configuration can make Nix print without end (builtins.trace
 * in a loop, an enormous result); the service must not buffer that in its own memory.
 */
export const defaultMaxStdoutBytes = 64 * 1024 * 1024;
export const defaultMaxStderrBytes = 16 * 1024 * 1024;

export interface NixRunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runNix(command: string, args: readonly string[], options: NixRunOptions = {}): Promise<NixRunResult> {
  const { signal, timeoutMs, killGraceMs = 500 } = options;
  if (signal?.aborted) throw new AppError("cancelled", `${command} cancelled before it started`);
  const child = execa(command, args, {
    cwd: options.cwd,
    env: options.env ? { ...nixEnv(), ...options.env } : nixEnv(),
    extendEnv: false,
    detached: true,
    reject: false,
    stdin: "ignore",
    stripFinalNewline: false,
    maxBuffer: { stdout: options.maxStdoutBytes ?? defaultMaxStdoutBytes, stderr: options.maxStderrBytes ?? defaultMaxStderrBytes },
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stopped: "timeout" | "cancelled" | null = null;
  const stop = (why: "timeout" | "cancelled"): void => {
    if (stopped) return;
    stopped = why;
    if (child.pid !== undefined) void terminateGroup(child.pid, killGraceMs);
  };
  const onAbort = (): void => stop("cancelled");
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = timeoutMs !== undefined && timeoutMs > 0 ? setTimeout(() => stop("timeout"), timeoutMs) : undefined;

  if (options.onStderrLine && child.stderr) {
    const cb = options.onStderrLine;
    let rest = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        cb(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    });
  }

  try {
    const result = await child;
    if (stopped === "timeout") {
      throw new AppError("timeout", `${command} timed out after ${timeoutMs} ms`);
    }
    if (stopped === "cancelled") throw new AppError("cancelled", `${command} was cancelled`);
    if (result.isMaxBuffer) {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      const stream = (result.message ?? "").includes("stderr") ? "stderr" : "stdout";
      const limit = stream === "stderr" ? (options.maxStderrBytes ?? defaultMaxStderrBytes) : (options.maxStdoutBytes ?? defaultMaxStdoutBytes);
      throw new AppError("resource_exhausted", `${command} wrote more than ${Math.round(limit / 1048576)} MiB to ${stream}; stopped`);
    }
    if (result.failed && result.exitCode === undefined) {
      throw new AppError("unavailable", `could not run ${command}: ${result.shortMessage}`, undefined, { cause: result });
    }
    return {
      exitCode: result.exitCode ?? 1,
      stdout: typeof result.stdout === "string" ? result.stdout : "",
      stderr: typeof result.stderr === "string" ? result.stderr : "",
    };
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    // Leave nothing behind: if the leader exited, stray group members (workers) go too.
    if (stopped && child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  }
}

/** Whether an executable is on PATH (no shell: we walk PATH ourselves). */
export async function isOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const { access, constants } = await import("node:fs/promises");
  const { delimiter, join } = await import("node:path");
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}
