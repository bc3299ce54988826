/**
 * Where a deployer's commands run: this machine, or a remote one over ssh. The profile logic in
 * profile-deployer.ts is written once against this interface. Each operation opens a session
 * (for ssh: one multiplexed connection) and closes it when done.
 */
import { nixEnv } from "../nix-env.js";
import type { Redactor } from "./redactor.js";
import { runProcess, type RunResult } from "./run-process.js";

export interface HostRunOptions {
  /** Extra environment (PATH and NIX_CONFIG are the host's business). */
  readonly env?: Readonly<Record<string, string>>;
  /** Secret environment: never on a command line, never logged. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  readonly onLine?: (text: string) => void;
  readonly captureStdout?: boolean;
}

export interface HostSession {
  /** For messages: "local" or "ssh://user@host:port". */
  readonly name: string;
  run(argv: readonly string[], opts: HostRunOptions): Promise<RunResult>;
  /** NIX_SSHOPTS that reuse this session's connection (ssh only). */
  readonly nixSshOpts?: string;
  close(): Promise<void>;
}

export interface Host {
  readonly name: string;
  open(opts: { signal: AbortSignal; redactor: Redactor }): Promise<HostSession>;
}

export function createLocalHost(killGraceMs: number): Host {
  const session: HostSession = {
    name: "local",
    run(argv, opts) {
      return runProcess(argv, {
        // Every child gets the service's Nix settings; activation scripts may call nix too.
        env: { ...nixEnv(process.env), ...opts.env, ...opts.secretEnv },
        signal: opts.signal,
        redactor: opts.redactor,
        killGraceMs,
        ...(opts.onLine ? { onLine: opts.onLine } : {}),
        ...(opts.captureStdout ? { captureStdout: true } : {}),
      });
    },
    async close() {},
  };
  return { name: "local", open: () => Promise.resolve(session) };
}
