// The DAG we build from .drv files equals what `nix show-derivation -r` says, for fixed-output,
// multi-output and structured-attrs derivations, with rio-gateway's per-node rules.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DagNode } from "../../src/core/dag.js";
import { AppError } from "../../src/errors.js";
import { parseDerivation } from "../../src/eval/aterm.js";
import { buildDag } from "../../src/eval/dag-builder.js";
import { loadDeploymentTypes, type DeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator, type EvaluationResult, type Evaluator } from "../../src/eval/evaluator.js";
import { fixtureTypesFile, fixturesDir, nix, salt, scratch } from "./support.js";

interface ShowDrv {
  outputs: Record<string, { path?: string; hashAlgo?: string; hash?: string }>;
  inputDrvs: Record<string, string[]>;
  inputSrcs: string[];
  system: string;
  env: Record<string, string>;
}

/** The gateway's rules (docs/rio-build.md, "What we send"), applied to show-derivation's JSON. */
function expectedNode(path: string, d: ShowDrv): Omit<DagNode, "drvContent" | "cached" | "needsResolve" | "isContentAddressed"> {
  const names = Object.keys(d.outputs).sort();
  const features = (d.env.requiredSystemFeatures ?? "").split(/\s+/).filter(Boolean);
  if (d.env.__json) for (const f of (JSON.parse(d.env.__json) as { requiredSystemFeatures?: string[] }).requiredSystemFeatures ?? []) features.push(f);
  const only = names.length === 1 ? d.outputs[names[0]!] : undefined;
  return {
    drvPath: path,
    pname: d.env.pname ?? d.env.name ?? "",
    system: d.system,
    requiredFeatures: features,
    outputNames: names,
    expectedOutputPaths: names.map((n) => d.outputs[n]!.path ?? ""),
    isFixedOutput: names[0] === "out" && !!only?.hashAlgo && !!only.hash,
  };
}

let types: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
let evaluator: Evaluator;
let special: EvaluationResult;
beforeAll(async () => {
  types = await loadDeploymentTypes(fixtureTypesFile);
  tmp = await scratch("dag");
  evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "roots") });
  special = await evaluator.evaluate(types.get("special")!, { salt: salt() });
});
afterAll(async () => {
  await special.release();
  await tmp.cleanup();
});

describe("DAG from .drv files", () => {
  it("walks the top level and recurseForDerivations sets only", () => {
    expect(special.jobs.map((j) => j.attr)).toEqual(["nested.fixed", "structured", "withSrc"]);
  });

  it("equals nix show-derivation -r, node for node and edge for edge", async () => {
    const shown = JSON.parse(await nix("nix", ["show-derivation", "-r", ...special.dag.roots])) as Record<string, ShowDrv>;
    const ours = new Map(special.dag.nodes.map((n) => [n.drvPath, n]));
    expect([...ours.keys()].sort()).toEqual(Object.keys(shown).sort());
    for (const [path, d] of Object.entries(shown)) {
      expect(ours.get(path)).toMatchObject(expectedNode(path, d));
    }
    const edges = Object.entries(shown).flatMap(([p, d]) => Object.keys(d.inputDrvs).map((c) => `${p} -> ${c}`));
    expect(special.dag.edges.map((e) => `${e.parent} -> ${e.child}`).sort()).toEqual(edges.sort());
    expect(new Set(special.dag.edges.map((e) => `${e.parent} -> ${e.child}`)).size).toBe(special.dag.edges.length);
  });

  it("parses every .drv field exactly as nix show-derivation prints it", async () => {
    const shown = JSON.parse(await nix("nix", ["show-derivation", "-r", ...special.dag.roots])) as Record<string, ShowDrv & { builder: string; args: string[] }>;
    for (const [path, d] of Object.entries(shown)) {
      const ours = parseDerivation(await readFile(path, "utf8"));
      expect(Object.fromEntries(ours.env)).toEqual(d.env);
      expect(ours.args).toEqual(d.args);
      expect(ours.builder).toBe(d.builder);
      expect(ours.inputSrcs).toEqual(d.inputSrcs);
      expect(Object.fromEntries(ours.inputDrvs)).toEqual(d.inputDrvs);
      for (const o of ours.outputs) {
        const theirs = d.outputs[o.name]!;
        expect({ path: o.path, hashAlgo: o.hashAlgo || undefined, hash: o.hash || undefined }).toEqual({ path: theirs.path, hashAlgo: theirs.hashAlgo, hash: theirs.hash });
      }
    }
  });

  it("describes fixed-output, multi-output and structured-attrs derivations", () => {
    const by = (pred: (n: DagNode) => boolean): DagNode => special.dag.nodes.find(pred)!;
    const fixed = by((n) => n.pname === "fixed-hello");
    expect(fixed).toMatchObject({ isFixedOutput: true, isContentAddressed: true, needsResolve: false, outputNames: ["out"] });
    const multi = by((n) => n.pname === "multi");
    expect(multi).toMatchObject({ isFixedOutput: false, isContentAddressed: false, outputNames: ["dev", "lib", "out"], requiredFeatures: ["big-parallel", "benchmark"] });
    expect(multi.expectedOutputPaths.every((p) => p.startsWith("/nix/store/"))).toBe(true);
    const withSrc = by((n) => n.drvPath.includes("-with-src-"));
    expect(withSrc.inputSrcsNarSize).toBeGreaterThan(0);
    expect(multi.inputSrcsNarSize).toBeUndefined();
    const structured = by((n) => n.drvPath.includes("-structured-"));
    expect(structured).toMatchObject({ requiredFeatures: ["kvm"], outputNames: ["doc", "out"] });
  });

  it("inlines the .drv text of unbuilt nodes and marks cache status", async () => {
    for (const n of special.dag.nodes) {
      expect(typeof n.cached).toBe("boolean");
      if (!n.cached) expect(Buffer.from(n.drvContent!).equals(await readFile(n.drvPath))).toBe(true);
    }
    const fixed = special.dag.nodes.find((n) => n.pname === "fixed-hello")!;
    await nix("nix-store", ["--realise", fixed.drvPath]);
    const again = await buildDag(special.dag.roots);
    const fixedAgain = again.dag.nodes.find((n) => n.drvPath === fixed.drvPath)!;
    expect(fixedAgain.cached).toBe(true);
    expect(fixedAgain.drvContent).toBeUndefined();
  });

  it("follows force_recurse into plain attribute sets", async () => {
    const base = types.get("special")!;
    const r = await evaluator.evaluate({ ...base, eval: { ...base.eval, forceRecurse: true } }, { salt: "forced" });
    try {
      expect(r.jobs.map((j) => j.attr)).toEqual(["hidden.notWalked", "nested.fixed", "structured", "withSrc"]);
    } finally {
      await r.release();
    }
  });

  it("rejects __noChroot derivations", async () => {
    const err = await evaluator.evaluate(types.get("no-chroot")!, {}).catch((e: unknown) => e);
    expect(AppError.is(err, "invalid_argument")).toBe(true);
    expect((err as AppError).message).toMatch(/__noChroot/);
  });

  it("marks floating-CA nodes and their parents needs_resolve and always inlines them", async () => {
    const child = join(tmp.dir, "00000000000000000000000000000000-ca-child.drv");
    const parent = join(tmp.dir, "11111111111111111111111111111111-parent.drv");
    await writeFile(child, 'Derive([("out","","r:sha256","")],[],[],"x86_64-linux","/bin/sh",[],[("name","ca-child")])');
    const big = "z".repeat(70 * 1024);
    await writeFile(
      parent,
      `Derive([("out","/nix/store/22222222222222222222222222222222-parent","","")],[("${child}",["out"])],[],"x86_64-linux","/bin/sh",[],[("big","${big}"),("name","parent")])`,
    );
    const { dag } = await buildDag([parent], { checkCache: false });
    const c = dag.nodes.find((n) => n.drvPath === child)!;
    const p = dag.nodes.find((n) => n.drvPath === parent)!;
    expect(c).toMatchObject({ isContentAddressed: true, isFixedOutput: false, needsResolve: true, expectedOutputPaths: [""] });
    expect(p).toMatchObject({ isContentAddressed: false, needsResolve: true });
    expect(p.drvContent!.length).toBeGreaterThan(64 * 1024);
    expect(dag.edges).toEqual([{ parent, child }]);
  });

  it("stops inlining once 16 MiB would be exceeded", async () => {
    const pad = "p".repeat(60 * 1024);
    const children: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = join(tmp.dir, `${String(i).padStart(32, "c")}-big-${i}.drv`);
      await writeFile(path, `Derive([("out","/nix/store/x-big-${i}","","")],[],[],"s","/bin/sh",[],[("pad","${pad}")])`);
      children.push(path);
    }
    const root = join(tmp.dir, "44444444444444444444444444444444-budget-root.drv");
    await writeFile(root, `Derive([("out","/nix/store/x-budget","","")],[${children.map((c) => `("${c}",["out"])`).join(",")}],[],"s","/bin/sh",[],[])`);
    const { dag } = await buildDag([root], { checkCache: false });
    const sizes = dag.nodes.map((n) => n.drvContent?.length ?? 0);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(total).toBeGreaterThan(15 * 1024 * 1024);
    const firstSkipped = sizes.indexOf(0);
    expect(firstSkipped).toBeGreaterThan(0);
    expect(sizes.slice(firstSkipped).every((s) => s === 0)).toBe(true);
  });

  it("fails on a missing input derivation instead of returning a partial DAG", async () => {
    const orphan = join(tmp.dir, "33333333333333333333333333333333-orphan.drv");
    await writeFile(orphan, `Derive([("out","/nix/store/x-o","","")],[("${join(tmp.dir, "gone.drv")}",["out"])],[],"s","/bin/sh",[],[])`);
    await expect(buildDag([orphan], { checkCache: false })).rejects.toMatchObject({ code: "failed_precondition" });
  });
});

describe("flake entry points", () => {
  it("evaluates a flake attribute as a function of the configuration", async () => {
    const type = types.get("from-flake")!;
    expect(type.entry).toMatchObject({ kind: "flake", flake: `path:${join(fixturesDir, "flake")}`, attrPath: ["lib", "deployments", "site"] });
    const r = await evaluator.evaluate(type, { domain: "flake.example.org" });
    try {
      expect(r.jobs).toMatchObject([{ attr: "site", drvPath: expect.stringMatching(/-flake-site\.drv$/) }]);
      const out = await nix("nix-store", ["--realise", r.dag.roots[0]!]);
      expect((await readFile(out, "utf8")).trim()).toBe("flake.example.org");
    } finally {
      await r.release();
    }
  });
});
