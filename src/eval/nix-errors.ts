/**
 * Evaluation errors as data: message, file, line and column, ANSI stripped. They come from
 * `--log-format internal-json` lines (fallback evaluator) or from the plain text that
 * nix-eval-jobs puts in a job's `error` field.
 */
import { AppError } from "../errors.js";

export interface EvalErrorInfo {
  /** The runner turns these into a sync error with code `eval_failed`. */
  readonly code: "eval_failed";
  /** One-line message, e.g. "attribute 'nope' missing". */
  readonly message: string;
  /** The full text Nix printed (code frame, trace), ANSI stripped. */
  readonly detail: string;
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  /** The job's attribute (dotted) when the error belongs to one job. */
  readonly attr?: string;
}

/**
 * A whole evaluation failed (the entry point itself, or every job when a caller asks for all): the
 * configuration does not evaluate, so the caller's input is at fault (invalid_argument, detail on
 * `configuration`). An AppError subclass because it also carries each error's position (file, line,
 * column, trace), which AppError's details (path, message) cannot hold; the runner records them in
 * the sync's `eval_failed` error.
 */
export class EvalFailedError extends AppError {
  override readonly name = "EvalFailedError";
  constructor(
    readonly errors: readonly EvalErrorInfo[],
    summary: string = describeEvalErrors(errors),
  ) {
    super("invalid_argument", `evaluation failed: ${summary}`, [{ path: "configuration", message: summary }]);
  }
}

/**
 * `attr: message (file:line:column)`: how an evaluation error reads in a sync's error and in a
 * plan's refusal (the job's attribute and the position only when known).
 */
export function describeEvalError(error: Pick<EvalErrorInfo, "message" | "file" | "line" | "column" | "attr">): string {
  const where = error.file ? ` (${error.file}:${error.line ?? "?"}:${error.column ?? "?"})` : "";
  return `${error.attr ? `${error.attr}: ` : ""}${error.message}${where}`;
}

/** Several evaluation errors, one per line. */
export function describeEvalErrors(errors: readonly Pick<EvalErrorInfo, "message" | "file" | "line" | "column" | "attr">[]): string {
  return errors.map(describeEvalError).join("\n");
}

// eslint-disable-next-line no-control-regex
const ansiPattern = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, "");
}

interface NixLogMsg {
  action?: unknown;
  level?: unknown;
  msg?: unknown;
  raw_msg?: unknown;
  file?: unknown;
  line?: unknown;
  column?: unknown;
  trace?: unknown;
}

interface Position {
  file: string | null;
  line: number | null;
  column: number | null;
}

function positionOf(o: { file?: unknown; line?: unknown; column?: unknown }): Position {
  return {
    file: typeof o.file === "string" && o.file !== "" ? o.file : null,
    line: typeof o.line === "number" ? o.line : null,
    column: typeof o.column === "number" ? o.column : null,
  };
}

const isOurs = (file: string | null, ignore: readonly string[]): boolean =>
  file === null || ignore.some((f) => file === f || file.startsWith(f));

/**
 * The one-line message: Nix ≤ 2.1x prints `error: <msg>` first; newer versions (and
 * nix-eval-jobs) print the trace first and the real `error: <msg>` last, so take the last
 * non-empty `error:` line, else the first line.
 */
function firstLine(text: string): string {
  const all = [...text.matchAll(/^\s*error:[ \t]*(\S.*)$/gm)];
  const last = all.at(-1)?.[1];
  if (last !== undefined) return last.trim();
  const t = text.replace(/^error:\s*/, "").trim();
  const nl = t.indexOf("\n");
  return nl < 0 ? t : t.slice(0, nl).trim();
}

/**
 * Finds the error in the stderr of a Nix command run with `--log-format internal-json`
 * (plain-text stderr is understood too). `ignoreFiles` are our own wrapper files (or prefixes):
 * positions inside them are skipped in favour of the user's file.
 */
export function parseNixError(stderr: string, ignoreFiles: readonly string[] = []): EvalErrorInfo | null {
  let found: EvalErrorInfo | null = null;
  const plain: string[] = [];
  for (const rawLine of stderr.split("\n")) {
    if (!rawLine.startsWith("@nix {")) {
      if (rawLine.trim() !== "") plain.push(rawLine);
      continue;
    }
    let m: NixLogMsg;
    try {
      m = JSON.parse(rawLine.slice(5)) as NixLogMsg;
    } catch {
      continue;
    }
    if (m.action !== "msg" || m.level !== 0 || typeof m.msg !== "string") continue;
    const detail = stripAnsi(m.msg);
    if (!detail.startsWith("error")) continue;
    let pos = positionOf(m);
    if (isOurs(pos.file, ignoreFiles) && Array.isArray(m.trace)) {
      for (const t of m.trace as unknown[]) {
        if (t === null || typeof t !== "object") continue;
        const p = positionOf(t as NixLogMsg);
        if (!isOurs(p.file, ignoreFiles)) {
          pos = p;
          break;
        }
      }
    }
    const message = typeof m.raw_msg === "string" ? stripAnsi(m.raw_msg).trim() : firstLine(detail);
    // The last error printed is the one that ended the process.
    found = { code: "eval_failed", message, detail, ...pos };
  }
  if (found) return found;
  const text = stripAnsi(plain.join("\n"));
  const start = text.search(/^error:/m);
  if (start < 0) return null;
  return errorFromText(text.slice(start), ignoreFiles);
}

/** Turns a plain error text (nix-eval-jobs' `error` field, or plain stderr) into data. */
export function errorFromText(text: string, ignoreFiles: readonly string[] = []): EvalErrorInfo {
  const detail = stripAnsi(text).trim();
  let pos: Position = { file: null, line: null, column: null };
  for (const m of detail.matchAll(/\bat (\/[^\s:]+):(\d+):(\d+)/g)) {
    const file = m[1] ?? null;
    if (isOurs(file, ignoreFiles)) continue;
    pos = { file, line: Number(m[2]), column: Number(m[3]) };
    break;
  }
  return { code: "eval_failed", message: firstLine(detail), detail, ...pos };
}
