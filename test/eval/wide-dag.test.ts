// A generated 2,000-node DAG: evaluation, dedup, edges, inlining budget and time on 2 cores.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDeploymentTypes, type DeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator } from "../../src/eval/evaluator.js";
import { fixtureTypesFile, nix, salt, scratch } from "./support.js";

let types: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
beforeAll(async () => {
  types = await loadDeploymentTypes(fixtureTypesFile);
  tmp = await scratch("wide");
});
afterAll(() => tmp.cleanup());

describe("a 2,000-node DAG", () => {
  it("has every node once, one edge per input and the plan counts", async () => {
    const evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "roots") });
    const t0 = Date.now();
    const r = await evaluator.evaluate(types.get("wide")!, { salt: salt(), width: 1998 });
    const ms = Date.now() - t0;
    try {
      expect(r.dag.nodes).toHaveLength(2000);
      expect(new Set(r.dag.nodes.map((n) => n.drvPath)).size).toBe(2000);
      expect(r.dag.edges).toHaveLength(1998 * 2);
      const root = r.dag.roots[0]!;
      expect(r.dag.edges.filter((e) => e.parent === root)).toHaveLength(1998);
      const base = r.dag.nodes.find((n) => n.pname === "base")!;
      expect(r.dag.edges.filter((e) => e.child === base.drvPath)).toHaveLength(1998);
      // nothing is built: every node is uncached; all are inlined but the root, whose .drv
      // (1,998 inputs) is over the 64 KiB per-node limit
      expect(r.dag.nodes.every((n) => n.cached === false)).toBe(true);
      const notInlined = r.dag.nodes.filter((n) => n.drvContent === undefined);
      expect(notInlined.map((n) => n.drvPath)).toEqual([root]);
      expect((await stat(root)).size).toBeGreaterThan(64 * 1024);
      const requisites = (await nix("nix-store", ["--query", "--requisites", root])).split("\n").filter((p) => p.endsWith(".drv"));
      expect(requisites.sort()).toEqual(r.dag.nodes.map((n) => n.drvPath).sort());
      expect(ms).toBeLessThan(30_000);
    } finally {
      await r.release();
    }
  });
});
