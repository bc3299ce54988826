/**
 * What a client sends as configuration is what the store hashes, keeps and deploys (issue 11
 * §4.2–3): own `__proto__`, `constructor` and `prototype` keys survive canonical JSON at every level
 * (they used to vanish from the hash and the stored configuration), and a configuration nested past
 * the limit is refused with invalid_argument naming it before anything recursive runs (12,000
 * levels used to overflow the stack in canonical JSON).
 */
import { describe, expect, it } from "vitest";
import { canonicalJson, defaultLimits } from "../../src/core/index.js";
import { AppError } from "../../src/errors.js";
import { apply, freshStore, tempDir } from "./fixture.js";

const dir = tempDir();

/** The error `f` throws (fails the test when it returns). */
function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}

/** Objects with own keys named like Object.prototype's members, as JSON.parse builds them from the wire. */
const hostileText = '{"salt":"s","__proto__":{"polluted":1},"constructor":{"prototype":{"x":2}},"nested":{"__proto__":[1,{"__proto__":"deep"}],"prototype":"p"}}';

describe("configuration keys named __proto__, constructor, prototype", () => {
  it("are kept by canonical JSON at every level, sorted like any key", () => {
    const canonical = canonicalJson(JSON.parse(hostileText));
    expect(canonical).toBe(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":2}},"nested":{"__proto__":[1,{"__proto__":"deep"}],"prototype":"p"},"salt":"s"}',
    );
    // Nothing leaked onto Object.prototype.
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("reach the config hash, the stored sync and the generation that is deployed", () => {
    const store = freshStore(dir);
    const withKeys = store.submitSync(apply("m", JSON.parse(hostileText), { mode: "enqueue" }));
    const without = store.submitSync(apply("m", { salt: "s", constructor: { prototype: { x: 2 } }, nested: { prototype: "p" } }, { mode: "enqueue" }));
    const reordered = store.submitSync(
      apply("m", JSON.parse('{"nested":{"prototype":"p","__proto__":[1,{"__proto__":"deep"}]},"constructor":{"prototype":{"x":2}},"__proto__":{"polluted":1},"salt":"s"}'), { mode: "enqueue" }),
    );
    expect(withKeys.sync.config_hash).not.toBe(without.sync.config_hash);
    expect(reordered.sync.config_hash).toBe(withKeys.sync.config_hash);

    const [claimed] = store.claimRunnable(1).claimed;
    expect(claimed?.id).toBe(withKeys.sync.sync);
    const stored = claimed?.configuration as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(["__proto__", "constructor", "nested", "salt"]);
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
    expect(JSON.stringify(stored)).toBe(JSON.stringify(JSON.parse(canonicalJson(JSON.parse(hostileText)))));

    store.transitionSync(withKeys.sync.sync, "evaluating", "deploying");
    const done = store.finishSync(withKeys.sync.sync, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/a-app"] });
    const generation = store.getGeneration("acme", "m", done.generation!);
    expect(generation.configHash).toBe(withKeys.sync.config_hash);
    expect(canonicalJson(generation.configuration)).toBe(canonicalJson(JSON.parse(hostileText)));
  });
});

describe("configuration nesting limit", () => {
  const limit = defaultLimits.maxConfigurationDepth;
  /** An object nested `levels` deep (the configuration itself is level 1), alternating objects and arrays. */
  function nested(levels: number): Record<string, unknown> {
    let v: unknown = "leaf";
    for (let i = 1; i < levels; i++) v = i % 2 === 0 ? [v] : { d: v };
    return { salt: "s", d: v };
  }

  it(`accepts ${limit} levels and refuses ${limit + 1} with invalid_argument naming the limit`, () => {
    const store = freshStore(dir);
    expect(store.submitSync(apply("ok", nested(limit))).created).toBe(true);
    const err = caught(() => store.submitSync(apply("deep", nested(limit + 1))));
    expect(AppError.is(err, "invalid_argument")).toBe(true);
    expect((err as AppError).message).toBe(`configuration is nested too deeply (limit: ${limit} levels)`);
    expect((err as AppError).details).toEqual([{ path: "configuration", message: `must not nest deeper than ${limit} levels` }]);
  });

  it("refuses 12,000 and 200,000 levels the same way, without a stack overflow, and stores nothing", () => {
    const store = freshStore(dir);
    for (const levels of [12_000, 200_000]) {
      const err = caught(() => store.submitSync(apply("deep", nested(levels))));
      expect(err, `${levels} levels`).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("invalid_argument");
      expect((err as AppError).message).toContain(`limit: ${limit} levels`);
    }
    expect(AppError.is(caught(() => store.getDeployment("acme", "deep")), "not_found")).toBe(true);
  });
});
