/**
 * Tiny self-contained derivations for the rio client tests: builtins.derivation with /bin/sh, no
 * nixpkgs, a fresh salt per call so every run builds for real. Instantiated with nix-instantiate
 * and turned into a BuildDag with `nix show-derivation -r`.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BuildDag, DagNode } from "../../src/core/dag.js";
import { nixEnv } from "../../src/nix-env.js";

const run = promisify(execFile);

export interface FixtureStep {
  /** Derivation name; also the attribute name. */
  readonly name: string;
  /** /bin/sh script; must write $out on success. Dependencies are in env vars named after them. */
  readonly script: string;
  readonly deps?: readonly string[];
}

export interface Fixture {
  readonly dag: BuildDag;
  /** Derivation name → .drv path. */
  readonly drv: Readonly<Record<string, string>>;
  readonly salt: string;
}

interface ShownDerivation {
  outputs: Record<string, { path?: string; hashAlgo?: string; hash?: string }>;
  inputDrvs: Record<string, unknown>;
  system: string;
  env: Record<string, string>;
}

/** Instantiates `steps` (the last one is the root) and returns the DAG with the .drv texts inlined. */
export async function instantiateFixture(steps: readonly FixtureStep[]): Promise<Fixture> {
  const salt = randomUUID();
  const attrs = steps
    .map((s) => {
      const deps = (s.deps ?? []).map((d) => `${d} = ${d};`).join(" ");
      return `${s.name} = builtins.derivation {
    name = "${s.name}"; system = builtins.currentSystem; builder = "/bin/sh";
    PATH = "/usr/bin:/bin"; salt = "${salt}"; ${deps}
    args = [ "-c" ${JSON.stringify(s.script)} ];
  };`;
    })
    .join("\n  ");
  const root = steps[steps.length - 1]!.name;
  const dir = await mkdtemp(join(tmpdir(), "rio-fixture-"));
  const file = join(dir, "default.nix");
  await writeFile(file, `let\n  ${attrs}\nin ${root}\n`);
  const env = nixEnv();
  const { stdout: rootDrv } = await run("nix-instantiate", [file], { env });
  const { stdout: shown } = await run("nix", ["show-derivation", "-r", rootDrv.trim()], { env, maxBuffer: 16 << 20 });
  const drvs = JSON.parse(shown) as Record<string, ShownDerivation>;
  const nodes: DagNode[] = [];
  const edges: { parent: string; child: string }[] = [];
  const drv: Record<string, string> = {};
  for (const [path, d] of Object.entries(drvs)) {
    const outputNames = Object.keys(d.outputs);
    drv[d.env.name ?? path] = path;
    nodes.push({
      drvPath: path,
      pname: d.env.pname ?? d.env.name ?? "",
      system: d.system,
      requiredFeatures: (d.env.requiredSystemFeatures ?? "").split(/\s+/).filter(Boolean),
      outputNames,
      expectedOutputPaths: outputNames.map((o) => d.outputs[o]?.path ?? ""),
      isFixedOutput: false,
      isContentAddressed: false,
      needsResolve: false,
      drvContent: new Uint8Array(await readFile(path)),
    });
    for (const child of Object.keys(d.inputDrvs)) edges.push({ parent: path, child });
  }
  return { dag: { roots: [rootDrv.trim()], nodes, edges }, drv, salt };
}
