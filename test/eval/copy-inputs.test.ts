// Copying what rio's builders need into a second store on this machine (a file:// binary cache).
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { copyInputsToStore, type CopyProgress } from "../../src/eval/copy-inputs.js";
import { buildDag } from "../../src/eval/dag-builder.js";
import { loadDeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator, type EvaluationResult } from "../../src/eval/evaluator.js";
import { fixtureTypesFile, nix, salt, scratch } from "./support.js";

let tmp: Awaited<ReturnType<typeof scratch>>;
let evaluated: EvaluationResult;
beforeAll(async () => {
  tmp = await scratch("copy");
  const types = await loadDeploymentTypes(fixtureTypesFile);
  evaluated = await createEvaluator({ gcRootsDir: join(tmp.dir, "roots") }).evaluate(types.get("special")!, { salt: salt() });
});
afterAll(async () => {
  await evaluated.release();
  await tmp.cleanup();
});

async function storePathsIn(cacheDir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const f of await readdir(cacheDir)) {
    if (!f.endsWith(".narinfo")) continue;
    const m = /^StorePath: (.*)$/m.exec(await readFile(join(cacheDir, f), "utf8"));
    if (m?.[1]) paths.push(m[1]);
  }
  return paths.sort();
}

describe("copyInputsToStore", () => {
  it("copies exactly the non-inlined .drv files and input sources the target lacks", async () => {
    const fixed = evaluated.dag.nodes.find((n) => n.pname === "fixed-hello")!;
    await nix("nix-store", ["--realise", fixed.drvPath]);
    // now built, the FOD is no longer inlined: its .drv must be in the store
    const { dag } = await buildDag(evaluated.dag.roots);
    const notInlined = dag.nodes.filter((n) => !n.drvContent).map((n) => n.drvPath);
    expect(notInlined).toEqual([fixed.drvPath]);
    const src = evaluated.derivations.get(evaluated.dag.roots.find((r) => r.includes("-with-src-"))!)!.drv.inputSrcs;
    expect(src).toHaveLength(1);

    const cache = join(tmp.dir, "cache");
    const url = `file://${cache}`;
    const progress: CopyProgress[] = [];
    const r = await copyInputsToStore(dag, { storeUrl: url, tenant: "acme", onProgress: (p) => progress.push(p) });
    const expected = [fixed.drvPath, src[0]!].sort();
    expect(r.skipped).toBe(false);
    expect([...r.needed].sort()).toEqual(expected);
    expect([...r.missing].sort()).toEqual(expected);
    expect([...r.copied].sort()).toEqual(expected);
    expect(await storePathsIn(cache)).toEqual(expected);
    expect(progress.map((p) => p.copied)).toEqual([1, 2]);
    expect(progress.at(-1)).toMatchObject({ copied: 2, total: 2 });

    const again = await copyInputsToStore(dag, { storeUrl: url });
    expect(again).toMatchObject({ missing: [], copied: [] });
  });

  it("does nothing for the local store", async () => {
    expect(await copyInputsToStore(evaluated.dag, { storeUrl: "auto" })).toEqual({ skipped: true, needed: [], missing: [], copied: [] });
  });

  it("reports an unusable target store clearly", async () => {
    const notADir = join(tmp.dir, "plain-file");
    await writeFile(notADir, "x");
    const err = await copyInputsToStore(evaluated.dag, { storeUrl: `file://${notADir}/cache`, tenant: "acme" }).catch((e: unknown) => e);
    expect(AppError.is(err, "unavailable")).toBe(true);
    expect((err as AppError).message).toContain(notADir);
    expect((err as AppError).message).toContain("acme");
  });
});
