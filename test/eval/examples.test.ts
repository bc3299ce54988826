// Every example deployment type evaluates, builds with real Nix, and activates/deactivates.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultDeploymentTypesFile, loadDeploymentTypes, type DeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator, type EvaluationResult } from "../../src/eval/evaluator.js";
import { examplesDir, nix, scratch } from "./support.js";

const apps = ["mastodon", "pixelfed", "peertube"] as const;
let types: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
const results = new Map<string, EvaluationResult>();

beforeAll(async () => {
  types = await loadDeploymentTypes(defaultDeploymentTypesFile);
  tmp = await scratch("examples");
  const evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "roots") });
  for (const app of apps) {
    const cfg = JSON.parse(await readFile(join(examplesDir, "configs", `${app}.json`), "utf8")) as unknown;
    results.set(app, await evaluator.evaluate(types.get(app)!, cfg, { rootsKey: app }));
  }
});
afterAll(async () => {
  for (const r of results.values()) await r.release();
  await tmp.cleanup();
});

describe("example deployment types", () => {
  it.each(apps)("%s evaluates to one top-level output over a DAG of several derivations", (app) => {
    const r = results.get(app)!;
    expect(r.jobs).toHaveLength(1);
    expect(r.jobs[0]).toMatchObject({ attr: app, attrPath: [app] });
    expect(r.jobs[0]!.error).toBeUndefined();
    expect(r.dag.roots).toEqual([r.jobs[0]!.drvPath]);
    expect(r.dag.nodes.length).toBeGreaterThanOrEqual(6);
    const pnames = r.dag.nodes.map((n) => n.pname);
    expect(pnames).toEqual(expect.arrayContaining([app, `${app}-server`, `${app}-config`, "fediversity-runtime", "fediversity-tls-proxy"]));
  });

  it("shares the runtime and TLS proxy derivations between applications", () => {
    const shared = (app: string): string[] =>
      results.get(app)!.dag.nodes.filter((n) => n.pname.startsWith("fediversity-")).map((n) => n.drvPath).sort();
    expect(shared("mastodon")).toHaveLength(2);
    expect(shared("pixelfed")).toEqual(shared("mastodon"));
    expect(shared("peertube")).toEqual(shared("mastodon"));
  });

  it("only enabled features become derivations", () => {
    const pnames = results.get("pixelfed")!.dag.nodes.map((n) => n.pname);
    expect(pnames).toContain("pixelfed-stories");
    expect(pnames).not.toContain("pixelfed-horizon");
  });

  it("builds every example and activates/deactivates it without leaking secrets", async () => {
    const roots = apps.map((a) => results.get(a)!.dag.roots[0]!);
    const outs = (await nix("nix-store", ["--realise", ...roots])).split("\n");
    expect(outs).toEqual(apps.map((a) => results.get(a)!.jobs[0]!.outputs.out));
    const target = join(tmp.dir, "target");
    const secret = "s3cr3t-'\"$(touch /tmp/pwned)-value";
    for (const [i, app] of apps.entries()) {
      const out = outs[i]!;
      const env = { PATH: "/usr/bin:/bin", FEDIVERSITY_TARGET_DIR: target, MASTODON_SECRET_KEY_BASE: secret, PIXELFED_APP_KEY: secret, PEERTUBE_SECRET: secret };
      const act = await execa(join(out, "bin/activate"), [], { env, extendEnv: false });
      expect(`${act.stdout}${act.stderr}`).not.toContain(secret);
      const marker = await readFile(join(target, `${app}.running.json`), "utf8");
      expect(marker).not.toContain(secret);
      const parsed = JSON.parse(marker) as { service: string; out: string; configuration: unknown; secrets_present: string[] };
      const sample = JSON.parse(await readFile(join(examplesDir, "configs", `${app}.json`), "utf8")) as unknown;
      expect(parsed).toMatchObject({ service: app, out, configuration: sample });
      expect(parsed.secrets_present.length).toBeGreaterThan(0);
    }
    expect((await readdir(target)).sort()).toEqual(apps.map((a) => `${a}.running.json`).sort());
    for (const [i] of apps.entries()) {
      await execa(join(outs[i]!, "bin/deactivate"), [], { env: { PATH: "/usr/bin:/bin", FEDIVERSITY_TARGET_DIR: target }, extendEnv: false });
      await execa(join(outs[i]!, "bin/deactivate"), [], { env: { PATH: "/usr/bin:/bin", FEDIVERSITY_TARGET_DIR: target }, extendEnv: false });
    }
    expect(await readdir(target)).toEqual([]);
    const noTarget = await execa(join(outs[0]!, "bin/activate"), [], { env: { PATH: "/usr/bin:/bin" }, extendEnv: false, reject: false });
    expect(noTarget.exitCode).not.toBe(0);
  });

  it("plan reports the docs/api.md shape with cache status", async () => {
    const evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "plan-roots") });
    const cfg = JSON.parse(await readFile(join(examplesDir, "configs", "mastodon.json"), "utf8")) as unknown;
    const plan = await evaluator.plan(types.get("mastodon")!, cfg);
    expect(plan.derivations).toBe(plan.nodes.length);
    expect(plan.cached + plan.to_build).toBe(plan.derivations);
    for (const n of plan.nodes) expect(Object.keys(n).sort()).toEqual(["cached", "drv", "pname"]);
    // built by the previous test (same configuration → same derivations)
    expect(plan.to_build).toBe(0);
    expect(await readdir(join(tmp.dir, "plan-roots"))).toEqual([]);
  });
});
