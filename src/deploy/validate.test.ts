import { describe, expect, it } from "vitest";
import { checkIds, checkStorePaths, isStorePath } from "./validate.js";
import { shQuote } from "./ssh-host.js";

describe("deploy input checks", () => {
  it("accepts store paths and refuses anything else", () => {
    expect(isStorePath("/nix/store/3ni8fn034gpiy7blsm12fbj8cvr99n0d-t-a29396")).toBe(true);
    expect(isStorePath("/nix/store/3ni8fn034gpiy7blsm12fbj8cvr99n0d-t a")).toBe(false);
    expect(isStorePath("/nix/store/short-x")).toBe(false);
    expect(() => checkStorePaths(["/nix/store/x; rm -rf /"])).toThrow(/not a store path/);
  });

  it("refuses tenant and deployment ids outside the API patterns", () => {
    expect(() => checkIds({ tenant: "acme", deployment: "mastodon_2" })).not.toThrow();
    expect(() => checkIds({ tenant: "acme", deployment: "../x" })).toThrow(/invalid deployment/);
    expect(() => checkIds({ tenant: "Acme", deployment: "x" })).toThrow(/invalid tenant/);
  });

  it("single-quotes for a POSIX shell", () => {
    expect(shQuote(`it's $(x)`)).toBe(`'it'\\''s $(x)'`);
  });
});
