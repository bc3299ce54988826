import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import {
  defaultDeploymentTypesFile,
  describeDeploymentTypes,
  loadDeploymentTypes,
  validateConfiguration,
  type DeploymentTypes,
} from "../../src/eval/deployment-types.js";
import { examplesDir, scratch } from "./support.js";

let types: DeploymentTypes;
let tmp: Awaited<ReturnType<typeof scratch>>;
beforeAll(async () => {
  types = await loadDeploymentTypes(defaultDeploymentTypesFile);
  tmp = await scratch("types");
});
afterAll(() => tmp.cleanup());

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("loadDeploymentTypes", () => {
  it("loads the built-in examples with absolute entry files, secrets and eval settings", () => {
    expect([...types.keys()].sort()).toEqual(["mastodon", "peertube", "pixelfed"]);
    const m = types.get("mastodon")!;
    expect(m.entry).toEqual({ kind: "file", file: join(examplesDir, "nix/mastodon.nix"), attrPath: [] });
    expect(m.deployer).toEqual({ kind: "local", rollback_on_failure: true });
    expect(m.secrets.MASTODON_SECRET_KEY_BASE).toBe(join(examplesDir, "secrets/mastodon/secret-key-base"));
    expect(m.eval).toEqual({ timeoutMs: 300_000, workers: 1, maxMemoryMib: 2048, forceRecurse: false });
  });

  it("reports every problem of a bad file with its path", async () => {
    const file = join(tmp.dir, "bad.json");
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        deployment_types: {
          one: {
            entry: { file: "nope.nix" },
            schema: { type: "object", required: ["domain"], examples: [{}] },
            deployer: { kind: "ssh" },
            secrets: { "bad-name": "x" },
          },
          two: { entry: { flake: "path:./f", attribute: "lib.x" }, schema: { type: "object" }, deployer: { kind: "local" } },
          "Bad Name": {},
        },
      }),
    );
    const err = await loadDeploymentTypes(file).then(
      () => null,
      (e: unknown) => e,
    );
    expect(AppError.is(err, "invalid_argument")).toBe(true);
    const paths = (err as AppError).details!.map((d) => d.path);
    expect(paths).toContain("deployment_types.Bad Name");
    // the first pass stops at structural errors; fix them and every semantic problem shows up
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        deployment_types: {
          one: {
            entry: { file: "nope.nix" },
            schema: { type: "object", required: ["domain"], examples: [{}] },
            deployer: { kind: "ssh" },
          },
          two: { entry: { flake: "path:./f", attribute: "lib.x" }, schema: { type: "object" }, deployer: { kind: "local" } },
          three: { entry: { file: "nope.nix" }, schema: { type: "object" }, deployer: { kind: "local" }, secrets: { "bad-name": "x" } },
        },
      }),
    );
    const err2 = (await loadDeploymentTypes(file).catch((e: unknown) => e)) as AppError;
    expect(err2.code).toBe("invalid_argument");
    expect(err2.details!.map((d) => d.path).sort()).toEqual([
      "deployment_types.one.deployer.host",
      "deployment_types.one.entry.file",
      "deployment_types.one.schema.examples.0.domain",
      "deployment_types.three.secrets.bad-name",
      "deployment_types.two.schema.examples",
    ]);
  });

  it("rejects a file that is not JSON, with its name", async () => {
    const file = join(tmp.dir, "broken.json");
    await writeFile(file, "{ nope");
    await expect(loadDeploymentTypes(file)).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining(file) });
  });
});

describe("validateConfiguration", () => {
  it("accepts the sample configurations", async () => {
    for (const name of ["mastodon", "pixelfed", "peertube"]) {
      const { default: cfg } = (await import(join(examplesDir, "configs", `${name}.json`), { with: { type: "json" } })) as {
        default: unknown;
      };
      expect(() => validateConfiguration(types.get(name)!, cfg)).not.toThrow();
    }
  });

  it("names each offending field as configuration.<path>", () => {
    const err = caught(() =>
      validateConfiguration(types.get("mastodon")!, { domain: "Not A Domain", limits: { max_toot_chars: 0 }, extra: 1 }),
    );
    expect(err.code).toBe("invalid_argument");
    expect(err.details!.map((d) => d.path).sort()).toEqual(["configuration.domain", "configuration.extra", "configuration.limits.max_toot_chars"]);
    const missing = caught(() => validateConfiguration(types.get("pixelfed")!, {}));
    expect(missing.details).toEqual([{ path: "configuration.domain", message: "must have required property 'domain'" }]);
  });

  it("rejects non-objects and deep nesting before Nix sees them", () => {
    expect(caught(() => validateConfiguration(types.get("mastodon")!, [1])).details![0]!.path).toBe("configuration");
    let deep: unknown = "x";
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const err = caught(() => validateConfiguration(types.get("mastodon")!, { domain: "a.example.org", deep }));
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/nested too deeply/);
  });
});

describe("describeDeploymentTypes", () => {
  it("gives the schema.get shape, for all types or one", () => {
    const all = describeDeploymentTypes(types);
    expect(Object.keys(all.deployment_types).sort()).toEqual(["mastodon", "peertube", "pixelfed"]);
    const one = describeDeploymentTypes(types, "pixelfed");
    expect(one).toEqual({ deployment_types: { pixelfed: { description: "Pixelfed photo sharing", schema: types.get("pixelfed")!.schema } } });
    expect(() => describeDeploymentTypes(types, "nope")).toThrow(expect.objectContaining({ code: "not_found" }));
  });
});
