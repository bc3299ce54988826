/**
 * Stopping a child that runs in its own process group (spawned `detached`), so that whatever it
 * started (Nix workers and builders, a deployer's ssh or activation script) goes with it. Used by
 * the evaluator and the deployers alike.
 */

/** Sends `signal` to the whole group (0 only probes); false once the group no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`; resolves once it is gone or killed. */
export async function terminateGroup(pid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pid, "SIGTERM")) return;
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(50, graceMs)));
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, "SIGKILL");
}
