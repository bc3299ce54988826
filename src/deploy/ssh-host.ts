/**
 * Runs commands on a remote host over ssh. The remote command is one quoted string (ssh hands it
 * to the remote login shell): `sh -c <wrapper> fediversity-env <argv…>`, every element single-
 * quoted. Environment, secrets included, travels on stdin as `NAME=<base64>` lines that the
 * wrapper exports before running argv, so no value is ever on a command line (local or remote).
 */
import { AppError } from "../errors.js";
import { nixConfigText } from "../nix-env.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Host } from "./host.js";
import { describeFailure, runProcess } from "./run-process.js";

export interface SshTarget {
  readonly host: string;
  readonly user: string;
  readonly port: number;
  readonly identityFile?: string | undefined;
  readonly options: readonly string[];
}

/** PATH on the remote: Debian's nix-env is in /usr/bin, a multi-user Nix in the default profile. */
export const remotePath = "/nix/var/nix/profiles/default/bin:/usr/local/bin:/usr/bin:/bin";

/**
 * The remote side of every command: export the env lines from stdin, then run argv in its own
 * session (setsid) while a watcher waits for stdin to close. stdin stays open as long as the local
 * ssh lives, so when the local side is killed (cancel, timeout) the watcher kills the remote
 * process group too: SIGTERM, then SIGKILL after the grace ($1 seconds).
 */
const wrapper = [
  'grace=$1; shift',
  'while IFS= read -r kv && [ -n "$kv" ]; do export "${kv%%=*}=$(printf %s "${kv#*=}" | base64 -d)" || exit 125; done',
  'setsid "$@" </dev/null & pid=$!',
  // An explicit redirect: background jobs of a non-interactive sh get /dev/null as stdin otherwise.
  'exec 3<&0',
  '( while IFS= read -r _; do :; done; kill -TERM -"$pid" 2>/dev/null && sleep "$grace" && kill -KILL -"$pid" 2>/dev/null ) <&3 3<&- & watcher=$!',
  'exec 3<&-',
  'wait "$pid"; rc=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$rc"',
].join("\n");

/** The service's Nix settings for remote nix commands (the same text nixEnv() gives local ones). */
export function remoteNixConfig(): string {
  const extra = process.env.FEDIVERSITY_NIX_CONFIG;
  return nixConfigText() + (extra ? `\n${extra}` : "");
}

export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function checkSshTarget(t: SshTarget): void {
  if (!/^[A-Za-z0-9_.:[\]-]+$/.test(t.host) || t.host.startsWith("-")) {
    throw new AppError("invalid_argument", `invalid ssh host ${JSON.stringify(t.host)}`, [{ path: "deployer.host", message: "not a host name or address" }]);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(t.user)) {
    throw new AppError("invalid_argument", `invalid ssh user ${JSON.stringify(t.user)}`, [{ path: "deployer.user", message: "not a user name" }]);
  }
}

/** ssh options shared by ssh itself and NIX_SSHOPTS (which Nix splits on whitespace). */
export function sshOptions(t: SshTarget): string[] {
  const opts = ["-p", String(t.port), "-o", "BatchMode=yes"];
  if (t.identityFile !== undefined) opts.push("-i", t.identityFile);
  for (const o of t.options) opts.push("-o", o);
  return opts;
}

export function nixSshOpts(t: SshTarget, opts: readonly string[] = sshOptions(t)): string {
  if (opts.some((o) => /\s/.test(o))) {
    throw new AppError("invalid_argument", "ssh identity_file and ssh_options must not contain whitespace (NIX_SSHOPTS is split on it)");
  }
  return opts.join(" ");
}

export function sshDestination(t: SshTarget): string {
  return `${t.user}@${t.host}`;
}

export function createSshHost(t: SshTarget, killGraceMs: number): Host {
  checkSshTarget(t);
  const name = `ssh://${t.user}@${t.host}:${t.port}`;
  return {
    name,
    async open({ signal, redactor }) {
      // One master connection per operation; every command and nix copy rides on it.
      const dir = await mkdtemp(join(tmpdir(), "fd-ssh-"));
      const control = ["-o", `ControlPath=${dir}/s`];
      const master = await runProcess(
        ["ssh", ...sshOptions(t), ...control, "-o", "ControlMaster=yes", "-f", "-N", "--", sshDestination(t)],
        { env: process.env, signal, redactor, killGraceMs },
      ).catch(async (err: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw err;
      });
      if (master.exitCode !== 0) {
        await rm(dir, { recursive: true, force: true });
        throw new AppError("failed_precondition", describeFailure(master, `ssh connection to ${sshDestination(t)}`));
      }
      const viaMaster = [...sshOptions(t), ...control, "-o", "ControlMaster=no"];
      return {
        name,
        nixSshOpts: nixSshOpts(t, viaMaster),
        run(argv, opts) {
          const env: Record<string, string> = {
            PATH: remotePath,
            NIX_CONFIG: remoteNixConfig(),
            ...opts.env,
            ...opts.secretEnv,
          };
          const input =
            Object.entries(env)
              .map(([k, v]) => `${k}=${Buffer.from(v, "utf8").toString("base64")}\n`)
              .join("") + "\n";
          const grace = String(Math.max(1, Math.ceil(killGraceMs / 1000)));
          const remoteCommand = ["sh", "-c", wrapper, "fediversity-env", grace, ...argv].map(shQuote).join(" ");
          return runProcess(["ssh", ...viaMaster, "--", sshDestination(t), remoteCommand], {
            env: process.env,
            input,
            keepStdinOpen: true,
            signal: opts.signal,
            redactor: opts.redactor,
            killGraceMs,
            ...(opts.onLine ? { onLine: opts.onLine } : {}),
            ...(opts.captureStdout ? { captureStdout: true } : {}),
          });
        },
        async close() {
          // Its own short deadline: close also runs after the operation's signal has fired.
          await runProcess(["ssh", ...control, "-O", "exit", "--", sshDestination(t)], {
            env: process.env,
            signal: AbortSignal.timeout(10_000),
            redactor,
            killGraceMs,
          }).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}
