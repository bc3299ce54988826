// Shared bits of the eval tests: the fixture and example type files, a scratch dir, real Nix calls.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { nixEnv } from "../../src/nix-env.js";

export const fixturesDir = fileURLToPath(new URL("../fixtures/eval/", import.meta.url));
export const fixtureTypesFile = join(fixturesDir, "deployment-types.json");
export const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));

export async function scratch(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `fd-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs a Nix command (no shell) and returns stdout; throws with stderr on failure. */
export async function nix(cmd: string, args: readonly string[]): Promise<string> {
  const r = await execa(cmd, args, { env: nixEnv(), reject: false, stripFinalNewline: true });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh salt so each run writes new derivations. */
export const salt = (): string => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
