/**
 * Test-only: the embedded router run alone in a child process (test/fixtures/e2e/external-router.ts),
 * standing in for Crossbar.io in component-mode tests. Its principals file lists the test's
 * principals plus the service's own (role `service`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./e2e-service.js";

export interface RouterProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** Stops it (SIGTERM: GOODBYE to every session; SIGKILL: drops them); resolves with its exit code. */
  stop(signal: "SIGTERM" | "SIGKILL"): Promise<number | null>;
}

export async function startRouterProcess(port: number, principalsPath: string): Promise<RouterProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/e2e/external-router.ts"), String(port), principalsPath], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let out = "";
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`router did not start: ${out}`)), 30_000);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`router exited (${code}): ${out}`));
    });
  });
  return {
    child,
    url,
    exited,
    stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      child.kill(signal);
      return exited;
    },
  };
}
