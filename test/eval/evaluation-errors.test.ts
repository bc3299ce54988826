// Evaluation errors as data (file, line, column), timeouts, cancellation and GC roots, with real Nix.
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { loadDeploymentTypes, type DeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator, type Evaluator } from "../../src/eval/evaluator.js";
import { EvalFailedError } from "../../src/eval/nix-errors.js";
import { fixtureTypesFile, fixturesDir, nix, salt, scratch } from "./support.js";

let types: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
let evaluator: Evaluator;
beforeAll(async () => {
  types = await loadDeploymentTypes(fixtureTypesFile);
  tmp = await scratch("eval-errors");
  evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "roots") });
});
afterAll(() => tmp.cleanup());

describe("evaluation errors", () => {
  it("gives each broken job its own error with file and line, and keeps the good jobs", async () => {
    const r = await evaluator.evaluate(types.get("broken")!, { salt: salt() });
    try {
      const byAttr = new Map(r.jobs.map((j) => [j.attr, j]));
      expect([...byAttr.keys()].sort()).toEqual(["good", "missing", "nested.aborted", "nested.inner", "thrown"]);
      const file = join(fixturesDir, "broken.nix");
      expect(byAttr.get("missing")!.error).toMatchObject({ code: "eval_failed", message: "attribute 'nope' missing", file, line: 9, column: 13, attr: "missing" });
      expect(byAttr.get("thrown")!.error).toMatchObject({ message: "deliberate failure", file, line: 10 });
      expect(byAttr.get("nested.aborted")!.error).toMatchObject({ message: expect.stringContaining("gave up"), file, line: 14 });
      for (const j of r.jobs) expect(j.error?.detail ?? "").not.toContain("\u001b");
      expect(byAttr.get("good")!.drvPath).toMatch(/^\/nix\/store\/[a-z0-9]{32}-good-.*\.drv$/);
      expect([...r.dag.roots].sort()).toEqual([byAttr.get("good")!.drvPath, byAttr.get("nested.inner")!.drvPath].sort());
      // plan refuses a partly broken evaluation
      await expect(evaluator.plan(types.get("broken")!, {})).rejects.toBeInstanceOf(EvalFailedError);
    } finally {
      await r.release();
    }
  });

  it("fails the whole evaluation when the entry point itself is broken, naming the user's file", async () => {
    const err = (await evaluator.evaluate(types.get("root-error")!, { domain: "x.org" }).catch((e: unknown) => e)) as EvalFailedError;
    expect(err).toBeInstanceOf(EvalFailedError);
    expect(err.code).toBe("invalid_argument");
    expect(err.errors[0]).toMatchObject({ message: "attribute 'missingAttribute' missing", file: join(fixturesDir, "root-error.nix"), line: 5, column: 1 });
    expect(await readdir(join(tmp.dir, "roots"))).toEqual([]);
  });

  it("times out and kills the evaluation", async () => {
    const t0 = Date.now();
    const err = await evaluator.evaluate(types.get("wide")!, { salt: salt(), width: 200_000 }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(AppError.is(err, "timeout")).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("stops when the caller aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const err = await evaluator.evaluate(types.get("wide")!, { salt: salt(), width: 200_000 }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(AppError.is(err, "cancelled")).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("roots the evaluated derivations until release", async () => {
    const r = await evaluator.evaluate(types.get("wide")!, { salt: salt(), width: 3 }, { rootsKey: "sync-1" });
    const dir = join(tmp.dir, "roots", "sync-1");
    expect(r.gcRootsDir).toBe(dir);
    const links = await readdir(dir);
    expect(links).toHaveLength(1);
    expect(await readlink(join(dir, links[0]!))).toBe(r.dag.roots[0]);
    const roots = await nix("nix-store", ["--gc", "--print-roots"]);
    expect(roots).toContain(`${join(dir, links[0]!)} -> ${r.dag.roots[0]}`);
    await r.release();
    await expect(lstat(dir)).rejects.toThrow();
    expect(await nix("nix-store", ["--gc", "--print-roots"])).not.toContain(dir);
  });
});

describe("runNix", () => {
  it("kills the whole process group on abort", async () => {
    const { runNix } = await import("../../src/eval/nix-process.js");
    const { writeFile } = await import("node:fs/promises");
    const cfg = join(tmp.dir, "slow.json");
    await writeFile(cfg, JSON.stringify({ salt: salt(), width: 300_000 }));
    const ac = new AbortController();
    let pid = 0;
    const walker = new URL("../../src/eval/walker.nix", import.meta.url).pathname;
    const p = runNix(
      "nix-instantiate",
      ["--eval", "--strict", "--json", "--read-write-mode", walker, "--argstr", "entryJson", JSON.stringify({ file: join(fixturesDir, "wide.nix") }), "--argstr", "cfgPath", cfg],
      { signal: ac.signal, onSpawn: (n) => (pid = n) },
    );
    setTimeout(() => ac.abort(), 150);
    await expect(p).rejects.toMatchObject({ code: "cancelled" });
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(-pid, 0)).toThrow(/ESRCH/);
  });
});

describe("the nix-eval-jobs engine", () => {
  it("is chosen when nix-eval-jobs is on PATH, gets its flags, and reports per-job errors", async () => {
    const log = join(tmp.dir, "nej.log");
    const fakeBin = join(fixturesDir, "fake-bin");
    const saved = { PATH: process.env.PATH, LOG: process.env.FAKE_NIX_EVAL_JOBS_LOG };
    process.env.PATH = `${fakeBin}:${process.env.PATH}`;
    process.env.FAKE_NIX_EVAL_JOBS_LOG = log;
    try {
      const ev = createEvaluator({ gcRootsDir: join(tmp.dir, "nej-roots") });
      const base = types.get("broken")!;
      const r = await ev.evaluate({ ...base, eval: { ...base.eval, workers: 3, maxMemoryMib: 777 } }, { salt: salt() }, { rootsKey: "s" });
      try {
        expect(r.engine).toBe("nix-eval-jobs");
        const byAttr = new Map(r.jobs.map((j) => [j.attr, j]));
        expect(byAttr.get("good")!.drvPath).toMatch(/-good-.*\.drv$/);
        expect(byAttr.get("missing")!.error).toMatchObject({ message: "attribute 'nope' missing", file: join(fixturesDir, "broken.nix"), line: 9 });
        expect(r.dag.roots).toEqual([byAttr.get("good")!.drvPath]);
        const argv = JSON.parse((await import("node:fs")).readFileSync(log, "utf8").split("\n")[0]!) as string[];
        expect(argv.slice(0, 7)).toEqual(["--workers", "3", "--max-memory-size", "777", "--gc-roots-dir", join(tmp.dir, "nej-roots", "s"), "--check-cache-status"]);
        expect(argv.at(-1)).toMatch(/src\/eval\/entry\.nix$/);
      } finally {
        await r.release();
      }
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.LOG === undefined) delete process.env.FAKE_NIX_EVAL_JOBS_LOG;
      else process.env.FAKE_NIX_EVAL_JOBS_LOG = saved.LOG;
    }
  });
});

describe("sweepStaleWorkDirs", () => {
  it("removes work dirs of dead processes only", async () => {
    const { mkdir } = await import("node:fs/promises");
    const { execa } = await import("execa");
    const { sweepStaleWorkDirs } = await import("../../src/eval/evaluator.js");
    const child = execa("/bin/true");
    const dead = child.pid!;
    await child;
    const work = join(tmp.dir, "work");
    for (const name of [`fediversity-eval-${dead}-abc`, `fediversity-eval-${process.pid}-def`, "unrelated"]) {
      await mkdir(join(work, name), { recursive: true });
    }
    expect(await sweepStaleWorkDirs(work)).toBe(1);
    expect((await readdir(work)).sort()).toEqual([`fediversity-eval-${process.pid}-def`, "unrelated"]);
    // and evaluations clean up after themselves
    const ev = createEvaluator({ gcRootsDir: join(tmp.dir, "sweep-roots"), workDir: work });
    const r = await ev.evaluate(types.get("wide")!, { salt: salt(), width: 2 });
    await r.release();
    expect((await readdir(work)).sort()).toEqual([`fediversity-eval-${process.pid}-def`, "unrelated"]);
  });
});
