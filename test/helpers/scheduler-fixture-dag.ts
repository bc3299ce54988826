/**
 * Test-only: instantiates test/fixtures/scheduler-dag.nix and turns the .drv files into rio
 * DerivationNode/DerivationEdge messages, the way the gateway would (drv_hash = drv_path). The
 * real translation lives in src/eval/; this stays minimal on purpose.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { execa } from "execa";
import { DerivationEdgeSchema, DerivationNodeSchema, type DerivationEdge, type DerivationNode } from "../../generated/dag_pb.js";
import { nixEnv } from "../../src/nix-env.js";

export interface FixtureNodeSpec {
  readonly name: string;
  readonly deps?: readonly string[];
  readonly sleep?: number;
  readonly lines?: number;
  readonly fail?: boolean;
  /** Own salt: the same name+salt in two DAGs is the same derivation. */
  readonly salt?: string;
  /** The derivation's system; default the machine's own. */
  readonly system?: string;
}

export interface FixtureDag {
  /** name → drv path */
  readonly drvs: Record<string, string>;
  /** name → output path */
  readonly outputs: Record<string, string>;
  readonly nodes: DerivationNode[];
  readonly edges: DerivationEdge[];
}

const fixture = fileURLToPath(new URL("../fixtures/scheduler-dag.nix", import.meta.url));

export function freshSalt(): string {
  return randomBytes(6).toString("hex");
}

interface ShownDrv {
  outputs: Record<string, { path?: string }>;
  inputDrvs: Record<string, string[]>;
  system: string;
  env: Record<string, string>;
}

export async function instantiateFixtureDag(spec: readonly FixtureNodeSpec[], salt: string, opts: { inline?: boolean } = {}): Promise<FixtureDag> {
  // The spec goes through a file: big DAGs would exceed the 128 KiB argv string limit.
  const dir = await mkdtemp(join(tmpdir(), "sched-fixture-"));
  const specFile = join(dir, "spec.json");
  await writeFile(specFile, JSON.stringify(spec));
  const expr = `{ salt, specFile }: builtins.mapAttrs (n: d: d.drvPath) (import ${fixture} { inherit salt; specJson = builtins.readFile specFile; })`;
  let drvs: Record<string, string>;
  try {
    const inst = await execa(
      "nix-instantiate",
      ["--eval", "--strict", "--json", "--read-write-mode", "-E", expr, "--argstr", "salt", salt, "--argstr", "specFile", specFile],
      { env: nixEnv() },
    );
    drvs = JSON.parse(inst.stdout) as Record<string, string>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const shown = await execa("nix", ["show-derivation", ...Object.values(drvs)], { env: nixEnv() });
  const info = JSON.parse(shown.stdout) as Record<string, ShownDrv>;
  const nameOf = new Map(Object.entries(drvs).map(([n, p]) => [p, n]));
  const outputs: Record<string, string> = {};
  const nodes: DerivationNode[] = [];
  const edges: DerivationEdge[] = [];
  for (const [drvPath, d] of Object.entries(info)) {
    const outputNames = Object.keys(d.outputs);
    const expected = outputNames.map((o) => d.outputs[o]?.path ?? "");
    outputs[nameOf.get(drvPath) ?? drvPath] = expected[0] ?? "";
    nodes.push(
      create(DerivationNodeSchema, {
        drvPath,
        drvHash: drvPath,
        pname: d.env.pname ?? d.env.name ?? "",
        system: d.system,
        outputNames,
        expectedOutputPaths: expected,
        drvContent: opts.inline ? await readFile(drvPath) : new Uint8Array(),
      }),
    );
    for (const child of Object.keys(d.inputDrvs)) edges.push(create(DerivationEdgeSchema, { parentDrvPath: drvPath, childDrvPath: child }));
  }
  return { drvs, outputs, nodes, edges };
}
