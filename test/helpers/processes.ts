/**
 * Process and port helpers shared by the suites that start the service as a child process
 * (runner kill/restart, end-to-end, hostile faults).
 */
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";

/**
 * Kills the processes left behind by killed services (nix builds, activation scripts: they run in
 * their own process groups), found by a marker variable (KEY=VALUE) only our children carry.
 */
export async function killProcessesMarked(marker: string): Promise<number> {
  let killed = 0;
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = await readFile(`/proc/${name}/environ`, "latin1");
      if (env.split("\0").includes(marker)) {
        process.kill(Number(name), "SIGKILL");
        killed += 1;
      }
    } catch {
      // gone or not ours
    }
  }
  return killed;
}

/** mulberry32: a small seeded PRNG, so a failing randomized run replays with the same seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A free TCP port on 127.0.0.1 (for restarts on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
