/**
 * A deployment's Nix profile on a host: one generation per distinct set of outputs, kept by Nix as
 * `profile-N-link` (each a GC root). A single output is the generation itself; several outputs
 * are bundled into one store file (`…-fediversity-outputs.json`, listing them and referencing
 * them, so all stay alive), because `nix-env --set` takes exactly one path.
 */
import { AppError } from "../errors.js";
import type { HostRunOptions, HostSession } from "./host.js";
import { expectSuccess } from "./run-process.js";
import { isStorePath } from "./validate.js";

export interface ProfileState {
  /** The current Nix generation, or null when the profile does not exist. */
  readonly current: number | null;
  /** Nix generation number → the store path it points at. */
  readonly generations: ReadonlyMap<number, string>;
}

export type ProfileRunOptions = Omit<HostRunOptions, "env" | "secretEnv" | "captureStdout">;

export interface NixProfile {
  readonly path: string;
  read(opts: ProfileRunOptions): Promise<ProfileState>;
  /** The store path a profile generation for these outputs points at. */
  targetFor(outputs: readonly string[], opts: ProfileRunOptions): Promise<string>;
  /** The outputs behind a generation's store path. */
  outputsOf(target: string, opts: ProfileRunOptions): Promise<string[]>;
  /** Makes `target` current: the newest generation already pointing at it, else a new one. */
  switchTo(target: string, opts: ProfileRunOptions): Promise<number>;
  remove(opts: ProfileRunOptions): Promise<void>;
}

const bundleName = "fediversity-outputs.json";

const bundleExpr = `{ paths }: builtins.toFile "${bundleName}" (builtins.toJSON (map builtins.storePath (builtins.fromJSON paths)))`;

export function createNixProfile(host: HostSession, dir: string): NixProfile {
  const path = `${dir}/profile`;

  async function read(opts: ProfileRunOptions): Promise<ProfileState> {
    const script = 'test -d "$1" || exit 0; cd "$1" && find . -maxdepth 1 -name "profile*" -type l -printf "%f\\t%l\\n"';
    const res = expectSuccess(await host.run(["sh", "-c", script, "sh", dir], { ...opts, captureStdout: true }), "reading the profile");
    let current: number | null = null;
    const generations = new Map<number, string>();
    for (const line of res.stdout.split("\n")) {
      const [name, target] = line.split("\t");
      if (name === undefined || target === undefined) continue;
      if (name === "profile") {
        const m = /^profile-(\d+)-link$/.exec(target);
        current = m?.[1] !== undefined ? Number(m[1]) : null;
        continue;
      }
      const m = /^profile-(\d+)-link$/.exec(name);
      if (m?.[1] !== undefined) generations.set(Number(m[1]), target);
    }
    if (current !== null && !generations.has(current)) current = null;
    return { current, generations };
  }

  async function targetFor(outputs: readonly string[], opts: ProfileRunOptions): Promise<string> {
    const [first] = outputs;
    if (outputs.length === 1 && first !== undefined) return first;
    const argv = ["nix-instantiate", "--eval", "--read-write-mode", "--argstr", "paths", JSON.stringify(outputs), "-E", bundleExpr];
    const res = expectSuccess(await host.run(argv, { ...opts, captureStdout: true }), "bundling the outputs");
    const target = res.stdout.trim().replace(/^"|"$/g, "");
    if (!isStorePath(target)) throw new AppError("internal", `unexpected bundle path from nix-instantiate: ${JSON.stringify(target)}`);
    return target;
  }

  async function outputsOf(target: string, opts: ProfileRunOptions): Promise<string[]> {
    if (!target.endsWith(`-${bundleName}`)) return [target];
    const res = expectSuccess(await host.run(["cat", target], { ...opts, captureStdout: true }), "reading the outputs bundle");
    const parsed: unknown = JSON.parse(res.stdout);
    if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === "string" && isStorePath(p))) {
      throw new AppError("internal", `malformed outputs bundle ${target}`);
    }
    return parsed;
  }

  async function switchTo(target: string, opts: ProfileRunOptions): Promise<number> {
    const state = await read(opts);
    if (state.current !== null && state.generations.get(state.current) === target) return state.current;
    const existing = [...state.generations].filter(([, t]) => t === target).map(([n]) => n);
    if (existing.length > 0) {
      const n = Math.max(...existing);
      expectSuccess(await host.run(["nix-env", "--profile", path, "--switch-generation", String(n)], opts), "switching the profile generation");
      return n;
    }
    expectSuccess(await host.run(["mkdir", "-p", dir], opts), "creating the profile directory");
    expectSuccess(await host.run(["nix-env", "--profile", path, "--set", target], opts), "setting the profile");
    const after = await read(opts);
    if (after.current === null) throw new AppError("internal", `profile ${path} has no current generation after nix-env --set`);
    return after.current;
  }

  async function remove(opts: ProfileRunOptions): Promise<void> {
    // Removing the links drops the GC roots; the store paths go at the next garbage collection.
    const script = 'test -d "$1" || exit 0; rm -f "$1"/profile "$1"/profile-*-link; rmdir "$1" 2>/dev/null; exit 0';
    expectSuccess(await host.run(["sh", "-c", script, "sh", dir], opts), "removing the profile");
  }

  return { path, read, targetFor, outputsOf, switchTo, remove };
}
