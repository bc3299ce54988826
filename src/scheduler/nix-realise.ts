/**
 * One `nix-store --realise` of one derivation, with its internal-json stderr decoded into log
 * lines and phases per derivation (docs/nix.md, "Log format") and a kill that spares nothing: SIGTERM to
 * the process group, SIGKILL after a grace (docs/nix.md, "Cancelling"). Success is decided by the caller from output
 * validity, because `stop` carries no success flag.
 */
import { createInterface } from "node:readline";
import { execa } from "execa";
import { nixEnv } from "../nix-env.js";
import { terminateGroup } from "../process-group.js";

export interface RealiseOptions {
  readonly drvPath: string;
  readonly maxSilentTime?: number;
  readonly timeout?: number;
  /** `--cores`; 0 = all (rio: the largest build_cores of the interested builds). */
  readonly cores?: number;
  readonly killGraceMs: number;
  readonly onLogLine: (drvPath: string, line: Buffer) => void;
  readonly onPhase: (drvPath: string, phase: string) => void;
}

export interface RealiseResult {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Error messages (`msg` level 0), ANSI stripped. */
  readonly errors: readonly string[];
}

export interface RunningRealise {
  readonly done: Promise<RealiseResult>;
  kill(): void;
}

const ansi = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

interface NixJson {
  action?: string;
  id?: number;
  type?: number;
  level?: number;
  msg?: string;
  fields?: unknown[];
}

export function startRealise(opts: RealiseOptions): RunningRealise {
  const args = ["--realise", opts.drvPath, "--log-format", "internal-json", "-v"];
  if (opts.maxSilentTime) args.push("--max-silent-time", String(opts.maxSilentTime));
  if (opts.timeout) args.push("--timeout", String(opts.timeout));
  if (opts.cores) args.push("--cores", String(opts.cores));
  const child = execa("nix-store", args, {
    env: nixEnv(),
    extendEnv: false,
    detached: true, // own process group, so a kill reaches the builder too
    reject: false,
    buffer: false,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const activityDrv = new Map<number, string>();
  const errors: string[] = [];

  const lines = createInterface({ input: child.stderr! });
  lines.on("line", (raw) => {
    if (!raw.startsWith("@nix ")) return;
    let m: NixJson;
    try {
      m = JSON.parse(raw.slice(5)) as NixJson;
    } catch {
      return;
    }
    if (m.action === "start" && m.type === 105 && typeof m.id === "number") {
      const drv = m.fields?.[0];
      if (typeof drv === "string") activityDrv.set(m.id, drv);
    } else if (m.action === "result" && typeof m.id === "number") {
      const drv = activityDrv.get(m.id);
      const field = m.fields?.[0];
      if (drv === undefined || typeof field !== "string") return;
      if (m.type === 101) opts.onLogLine(drv, Buffer.from(field, "utf8"));
      else if (m.type === 104) opts.onPhase(drv, field);
    } else if (m.action === "msg" && m.level === 0 && typeof m.msg === "string") {
      errors.push(m.msg.replace(ansi, ""));
    }
  });
  const stderrClosed = new Promise<void>((resolve) => lines.once("close", () => resolve()));

  let killing = false;

  const done = (async (): Promise<RealiseResult> => {
    const result = await child;
    await stderrClosed;
    return { exitCode: result.exitCode, signal: result.signal, errors };
  })();

  return {
    done,
    kill() {
      if (killing || child.pid === undefined) return;
      killing = true;
      void terminateGroup(child.pid, opts.killGraceMs);
    },
  };
}

/** The stored build log of a derivation, or undefined when Nix has none. */
export async function readStoredLog(drvPath: string): Promise<Buffer | undefined> {
  const r = await execa("nix-store", ["--read-log", drvPath], {
    env: nixEnv(),
    extendEnv: false,
    reject: false,
    encoding: "buffer",
  });
  if (r.exitCode !== 0) return undefined;
  return Buffer.from(r.stdout);
}
