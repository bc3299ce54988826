/**
 * Request/answer over a forked child's IPC channel: the orchestrator of bench/peers.ts drives
 * routers, clients, the scheduler and the readers, each in its own process, through this.
 * Both sides speak `{ id, ...request }` → `{ id, ok: true, value } | { id, ok: false, error }`;
 * a child announces itself once with `{ ready: value }`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ChildLink {
  readonly pid: number;
  /** What the child sent with `ready`. */
  readonly hello: Record<string, unknown>;
  request<T = Record<string, unknown>>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit; kills it after a grace period. */
  close(): Promise<void>;
}

interface Reply {
  id?: number;
  ok?: boolean;
  value?: unknown;
  error?: string;
  ready?: Record<string, unknown>;
}

/** Forks `script` (a path relative to this folder) under tsx; resolves once it said `ready`. */
export async function startChild(script: string, args: readonly string[], options: { exposeGc?: boolean } = {}): Promise<ChildLink> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const execArgv = ["--import", "tsx", ...(options.exposeGc ? ["--expose-gc"] : [])];
  const proc: ChildProcess = fork(path, args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited: Error | undefined;
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code, signal) => reject(new Error(`${script} exited before it was ready (${code ?? signal})`)));
    proc.on("message", (m: Reply) => {
      if (m.ready !== undefined) {
        resolve(m.ready);
        return;
      }
      const w = m.id === undefined ? undefined : waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id!);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(`${script}: ${m.error ?? "failed"}`));
    });
  });
  proc.removeAllListeners("exit");
  proc.on("exit", (code, signal) => {
    exited = new Error(`${script} exited (${code ?? signal})`);
    for (const w of waiting.values()) w.reject(exited);
    waiting.clear();
  });
  return {
    pid: proc.pid!,
    hello,
    request<T>(message: Record<string, unknown>, timeoutMs = 600_000): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${script}: no answer to ${String(message.cmd)} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ id, ...message });
      });
    },
    async close() {
      if (exited || proc.exitCode !== null) return;
      const gone = new Promise<void>((r) => proc.once("exit", () => r()));
      proc.send({ cmd: "exit" });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export type Handler = (message: Record<string, unknown>) => Promise<unknown> | unknown;

/**
 * The child's side: answers each request with the handler's value (or its error), exits on
 * `{ cmd: "exit" }` after `onExit`, and announces `ready` once.
 */
export function serveParent(ready: Record<string, unknown>, handler: Handler, onExit?: () => Promise<void> | void): void {
  process.on("message", (m: Record<string, unknown> & { id: number }) => {
    if (m.cmd === "exit") {
      void Promise.resolve(onExit?.()).finally(() => process.exit(0));
      return;
    }
    Promise.resolve()
      .then(() => handler(m))
      .then(
        (value) => process.send?.({ id: m.id, ok: true, value }),
        (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  // The orchestrator going away must not leave load generators behind.
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready });
}
