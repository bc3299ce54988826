// Configuration values reach Nix as data only: hostile strings stay inert, or are refused cleanly.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { defaultDeploymentTypesFile, loadDeploymentTypes, type DeploymentTypes } from "../../src/eval/deployment-types.js";
import { createEvaluator, type Evaluator } from "../../src/eval/evaluator.js";
import { fixtureTypesFile, nix, scratch } from "./support.js";

const hostile = [
  '"; builtins.abort "injected"; "',
  "${builtins.abort \"interpolated\"}",
  "'' ${abort \"x\"} ''",
  "back\\slash \\\" \\n \\${x}",
  "line one\nline two\r\n\ttabbed",
  "$(touch /tmp/fd-pwned) `id` $HOME",
  "unicode ✓ é \u0001",
];

let types: DeploymentTypes;
let examples: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
let evaluator: Evaluator;
beforeAll(async () => {
  types = await loadDeploymentTypes(fixtureTypesFile);
  examples = await loadDeploymentTypes(defaultDeploymentTypesFile);
  tmp = await scratch("hostile");
  evaluator = createEvaluator({ gcRootsDir: join(tmp.dir, "roots") });
});
afterAll(() => tmp.cleanup());

describe("hostile configurations", () => {
  it("carries quotes, ${…}, backslashes and newlines through evaluation and build unchanged", async () => {
    const configuration = { strings: hostile, [hostile[0]!]: hostile[1], nested: { a: [hostile[4], { b: hostile[3] }] } };
    const r = await evaluator.evaluate(types.get("echo")!, configuration);
    try {
      expect(r.jobs[0]!.error).toBeUndefined();
      const out = await nix("nix-store", ["--realise", r.dag.roots[0]!]);
      expect(JSON.parse(await readFile(out, "utf8"))).toEqual(configuration);
    } finally {
      await r.release();
    }
  });

  it("passes a 1 MiB string as data", async () => {
    const big = "x\"${}\\\n".repeat(150_000).slice(0, 1024 * 1024);
    const r = await evaluator.evaluate(types.get("echo")!, { big });
    try {
      const out = await nix("nix-store", ["--realise", r.dag.roots[0]!]);
      expect((JSON.parse(await readFile(out, "utf8")) as { big: string }).big).toBe(big);
      // a .drv over 64 KiB is not inlined
      const node = r.dag.nodes.find((n) => n.drvPath === r.dag.roots[0])!;
      expect(node.drvContent).toBeUndefined();
    } finally {
      await r.release();
    }
  });

  it("puts hostile text into an example's files without running it", async () => {
    const site_title = hostile.join(" | ").slice(0, 200);
    const r = await evaluator.evaluate(examples.get("mastodon")!, { domain: "hostile.example.org", site_title });
    try {
      const cfgNode = r.dag.nodes.find((n) => n.pname === "mastodon-config")!;
      const out = await nix("nix-store", ["--realise", cfgNode.drvPath]);
      expect(JSON.parse(await readFile(join(out, "config.json"), "utf8"))).toEqual({ domain: "hostile.example.org", site_title });
    } finally {
      await r.release();
    }
  });

  it("refuses what the schema or the nesting limit rejects, before Nix runs", async () => {
    const mastodon = examples.get("mastodon")!;
    const tooLong = await evaluator.evaluate(mastodon, { domain: "a.example.org", site_title: "y".repeat(1024 * 1024) }).catch((e: unknown) => e);
    expect(AppError.is(tooLong, "invalid_argument")).toBe(true);
    expect((tooLong as AppError).details).toEqual([{ path: "configuration.site_title", message: "must NOT have more than 200 characters" }]);
    const injected = await evaluator.evaluate(mastodon, { domain: '"; abort "x"; "' }).catch((e: unknown) => e);
    expect((injected as AppError).details?.[0]?.path).toBe("configuration.domain");
    const nul = await evaluator.evaluate(types.get("echo")!, { list: ["ok", "cut\u0000here"] }).catch((e: unknown) => e);
    expect((nul as AppError).details).toEqual([{ path: "configuration.list.1", message: "must not contain NUL characters" }]);
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    const nested = await evaluator.evaluate(types.get("echo")!, { deep }).catch((e: unknown) => e);
    expect(AppError.is(nested, "invalid_argument")).toBe(true);
  });
});
