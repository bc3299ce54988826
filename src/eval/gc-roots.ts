/**
 * Indirect GC roots in a per-sync directory, so evaluated .drv files (and through their
 * references, their whole closure) survive until the caller releases them. The layout is Nix's
 * own: `<dir>/<basename>` → store path, and `<state>/gcroots/auto/<id>` → `<dir>/<basename>`
 * (what `--add-root --indirect` and nix-eval-jobs' `--gc-roots-dir` create). Releasing removes
 * the directory and our auto links; the collector also drops auto links whose target is gone.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, symlink, unlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

export function nixStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NIX_STATE_DIR ?? "/nix/var/nix";
}

const autoLinkName = (link: string): string => `fediversity-${createHash("sha1").update(link).digest("hex")}`;

export interface GcRoots {
  readonly dir: string;
  /** Adds a root for each store path (existing roots are kept). */
  add(storePaths: Iterable<string>): Promise<void>;
  /** Removes every root of this directory. Idempotent. */
  release(): Promise<void>;
}

export async function openGcRoots(dir: string): Promise<GcRoots> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const autoDir = join(nixStateDir(), "gcroots", "auto");
  return {
    dir: root,
    async add(storePaths) {
      await mkdir(autoDir, { recursive: true });
      for (const p of new Set(storePaths)) {
        const link = join(root, basename(p));
        try {
          await symlink(p, link);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        try {
          await symlink(link, join(autoDir, autoLinkName(link)));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
      }
    },
    async release() {
      let names: string[];
      try {
        names = await readdir(root);
      } catch {
        return;
      }
      for (const n of names) await unlink(join(autoDir, autoLinkName(join(root, n)))).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
