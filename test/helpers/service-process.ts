/**
 * The service as a child process (`node --import tsx src/main.ts serve`), for tests that restart
 * or SIGKILL it. Ready once it logs "fediversity-deploy is running" with its WAMP URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ChildService {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** The last 20,000 characters of its stdout and stderr. */
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM (SIGKILL after 15 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnService(args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 45_000): Promise<ChildService> {
  // The readiness line is logged at info level; the last --log-level wins over one in `args`.
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/main.ts"), "serve", ...args, "--log-level", "info"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stderr?.on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`service did not start within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    child.stdout?.on("data", (b: Buffer) => {
      keep(b);
      const m = /"wamp":"(ws:\/\/[^"]+)"[^\n]*"msg":"fediversity-deploy is running"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before it was running: ${out}`));
    });
  });
  return {
    child,
    url,
    exited,
    output: () => out,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
