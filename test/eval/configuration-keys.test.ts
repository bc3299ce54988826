/**
 * The deployment type's schema sees a configuration's own keys only (issue 11 §4.2): a key named
 * like a member of Object.prototype (`constructor`, `toString`, `__proto__`) is present when the
 * client sent it and absent otherwise, never inherited. Without ajv's `ownProperties`, an absent
 * `constructor` was validated as Object.prototype.constructor (a function).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultLimits } from "../../src/core/index.js";
import { AppError } from "../../src/errors.js";
import { parseDeploymentTypes, validateConfiguration, type DeploymentType } from "../../src/eval/deployment-types.js";
import { repoRoot } from "../helpers/e2e-service.js";

let type: DeploymentType;
beforeAll(async () => {
  const types = await parseDeploymentTypes(
    {
      version: 1,
      deployment_types: {
        keys: {
          entry: { file: join(repoRoot, "test/fixtures/e2e/e2e.nix") },
          schema: {
            type: "object",
            additionalProperties: false,
            required: ["constructor"],
            properties: { constructor: { type: "string" }, toString: { type: "string" }, extra: { type: "object" } },
            examples: [{ constructor: "c" }],
          },
          deployer: { kind: "local" },
        },
      },
    },
    repoRoot,
  );
  type = types.get("keys")!;
});

function problems(configuration: unknown): unknown {
  try {
    validateConfiguration(type, configuration);
  } catch (err) {
    if (!AppError.is(err, "invalid_argument")) throw err;
    return err.details;
  }
  return "valid";
}

describe("schema validation of keys named like Object.prototype members", () => {
  it("an absent `constructor` is missing, not Object's constructor; an absent `toString` is simply absent", () => {
    expect(problems({})).toEqual([{ path: "configuration.constructor", message: "must have required property 'constructor'" }]);
    expect(problems({ constructor: "c" })).toBe("valid");
    expect(problems({ constructor: "c", toString: 1 })).toEqual([{ path: "configuration.toString", message: "must be string" }]);
  });

  it("an own top-level `__proto__` or `prototype` is an unknown key with its path; nested ones are kept where the schema allows any object", () => {
    expect(problems(JSON.parse('{"constructor":"c","__proto__":{"constructor":"x"}}'))).toEqual([{ path: "configuration.__proto__", message: "is not allowed" }]);
    expect(problems({ constructor: "c", prototype: {} })).toEqual([{ path: "configuration.prototype", message: "is not allowed" }]);
    expect(problems(JSON.parse('{"constructor":"c","extra":{"__proto__":{"a":1},"prototype":2,"constructor":3}}'))).toBe("valid");
  });

  it("nesting past the service's limit is refused naming the limit, before the schema runs", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 12_000; i++) deep = { d: deep };
    expect(problems({ constructor: "c", extra: deep })).toEqual([
      { path: "configuration", message: `must not nest deeper than ${defaultLimits.maxConfigurationDepth} levels` },
    ]);
  });
});
