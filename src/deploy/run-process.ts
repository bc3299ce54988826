/**
 * Runs one child process for a deployer: argv only (never a shell), its own process group so a
 * cancel or timeout kills everything it started (SIGTERM, then SIGKILL after a grace), output
 * split into lines, redacted, and streamed to the sink.
 */
import { constants } from "node:os";
import { execa } from "execa";
import { AppError } from "../errors.js";
import { terminateGroup } from "../process-group.js";
import type { Redactor } from "./redactor.js";

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Written to stdin, then closed; stdin is /dev/null otherwise. */
  readonly input?: string;
  /** Leave stdin open after `input` until the process exits (the ssh wrapper watches it). */
  readonly keepStdinOpen?: boolean;
  /** The operation's deadline; its reason (an AppError) is thrown when it fires. */
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  /** Receives every redacted stdout/stderr line; unset = lines are only kept for errors. */
  readonly onLine?: (text: string) => void;
  /** Keep stdout (unredacted, for parsing) instead of streaming it. */
  readonly captureStdout?: boolean;
  readonly killGraceMs: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  /** The last stderr lines, redacted, for error messages. */
  readonly stderrTail: readonly string[];
}

const tailSize = 5;
/** Longest line handed to the sink; longer output is split into lines of this length. */
const maxLineChars = 64 * 1024;

/** SIGTERM → SIGKILL grace when a deployer's deps do not set one. */
export const defaultKillGraceMs = 5000;

export async function runProcess(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new AppError("internal", "empty argv");
  opts.signal.throwIfAborted();
  const child = execa(file, args, {
    env: opts.env,
    extendEnv: false,
    detached: true, // own process group: the kill below reaches grandchildren too
    reject: false,
    buffer: false,
    stdin: opts.input === undefined ? "ignore" : "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  if (opts.input !== undefined) {
    if (opts.keepStdinOpen) {
      child.stdin?.write(opts.input);
      child.on("exit", () => child.stdin?.end());
    } else {
      child.stdin?.end(opts.input);
    }
  }
  child.stdin?.on("error", () => undefined); // EPIPE when the process exits without reading

  let stdout = "";
  const tail: string[] = [];
  const emit = (line: string, isStderr: boolean): void => {
    const text = opts.redactor.redact(line);
    if (isStderr) {
      tail.push(text);
      if (tail.length > tailSize) tail.shift();
    }
    opts.onLine?.(text);
  };
  const capture = opts.captureStdout === true;
  const finished = [
    pipeLines(child.stdout, (l) => (capture ? void 0 : emit(l, false)), (chunk) => (capture ? (stdout += chunk) : void 0)),
    pipeLines(child.stderr, (l) => emit(l, true)),
  ];

  let killing: Promise<void> | undefined;
  const onAbort = (): void => {
    if (child.pid !== undefined) killing = terminateGroup(child.pid, opts.killGraceMs);
  };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await child;
    await Promise.all(finished);
    if (killing) {
      await killing;
      throw AppError.from(opts.signal.reason);
    }
    if (result.exitCode === undefined && result.signal === undefined) {
      // Spawn failures (ENOENT, EACCES) have no exit code; execa's message names the file only.
      const cause = result.code ?? result.shortMessage;
      throw new AppError("failed_precondition", opts.redactor.redact(`cannot run ${file}: ${String(cause)}`));
    }
    // A process killed by a signal reports it the way a shell would (128 + n).
    return { exitCode: result.exitCode ?? 128 + signalNumber(result.signal), stdout, stderrTail: tail };
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
  }
}

/** Throws a failed_precondition AppError unless the process exited 0. */
export function expectSuccess(result: RunResult, what: string): RunResult {
  if (result.exitCode === 0) return result;
  throw new AppError("failed_precondition", describeFailure(result, what));
}

export function describeFailure(result: RunResult, what: string): string {
  const last = result.stderrTail.filter((l) => l.trim().length > 0).at(-1);
  return `${what} failed (exit ${result.exitCode})${last ? `: ${last.trim()}` : ""}`;
}

function pipeLines(
  stream: NodeJS.ReadableStream | null | undefined,
  onLine: (line: string) => void,
  onChunk?: (chunk: string) => void,
): Promise<void> {
  if (!stream) return Promise.resolve();
  stream.setEncoding("utf8");
  let pending = "";
  return new Promise((resolve) => {
    stream.on("data", (chunk: string) => {
      onChunk?.(chunk);
      pending += chunk;
      const parts = pending.split(/\r?\n/);
      pending = parts.pop() ?? "";
      for (const part of parts) {
        if (part.length <= maxLineChars) onLine(part);
        else for (let i = 0; i < part.length; i += maxLineChars) onLine(part.slice(i, i + maxLineChars));
      }
      // A line without end (a script printing a file of zeros) is passed on in pieces rather than
      // held in memory until its newline.
      while (pending.length > maxLineChars) {
        onLine(pending.slice(0, maxLineChars));
        pending = pending.slice(maxLineChars);
      }
    });
    const done = (): void => {
      if (pending.length > 0) onLine(pending);
      pending = "";
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

function signalNumber(signal: string | undefined): number {
  return signal === undefined ? 0 : (constants.signals[signal as NodeJS.Signals] ?? 0);
}
