import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { nixEnv } from "../../src/nix-env.js";
import { createOutputFetcher, createRedactor } from "../../src/deploy/index.js";
import { buildOutputs, okVariant } from "./fixtures.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const op = () => ({ signal: new AbortController().signal, redactor: createRedactor(), onLine: () => {} });

async function isValid(path: string): Promise<boolean> {
  const r = await execa("nix-store", ["--check-validity", path], { env: nixEnv(process.env), reject: false });
  return r.exitCode === 0;
}

describe("output fetcher", () => {
  it("is a no-op for valid paths and copies missing ones from the store URL", async () => {
    const { v1 } = await buildOutputs({ v1: okVariant() });
    const path = v1!;
    await createOutputFetcher({ killGraceMs: 500 }).fetchOutputs([path], op());

    // A file:// binary cache stands in for rio-store.
    const cache = await mkdtemp(join(tmpdir(), "deploy-cache-"));
    dirs.push(cache);
    const env = nixEnv(process.env);
    await execa("nix", ["copy", "--to", `file://${cache}`, path], { env });
    await execa("nix-store", ["--delete", path], { env });
    expect(await isValid(path)).toBe(false);

    await expect(createOutputFetcher({ killGraceMs: 500 }).fetchOutputs([path], op())).rejects.toThrow(
      /outputs not in the local store and no store URL configured/,
    );
    // The cache is unsigned; an operator would configure trusted-public-keys instead.
    process.env.FEDIVERSITY_NIX_CONFIG = "require-sigs = false";
    try {
      const lines: string[] = [];
      await createOutputFetcher({ storeUrl: `file://${cache}`, killGraceMs: 500 }).fetchOutputs([path], { ...op(), onLine: (l) => lines.push(l) });
      expect(lines[0]).toBe(`fetching 1 output(s) from file://${cache}`);
    } finally {
      delete process.env.FEDIVERSITY_NIX_CONFIG;
    }
    expect(await isValid(path)).toBe(true);
  });
});
