import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.js";
import { loadPrincipalsFile, parsePrincipals } from "./principals.js";

describe("principals", () => {
  it("refuses a bad list with AppError invalid_argument and the path of each problem", () => {
    let thrown: unknown;
    try {
      parsePrincipals([{ authid: "a", role: "r" }, { authid: "a", role: "r", ticket: "t", extra: 1 }]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: "invalid_argument" });
    expect((thrown as AppError).details).toEqual(
      expect.arrayContaining([
        { path: "0", message: "needs one of ticket, secret or pubkey" },
        expect.objectContaining({ path: "1.extra" }),
      ]),
    );
  });

  it("refuses an unreadable or non-JSON file the same way", async () => {
    const dir = await mkdtemp(join(tmpdir(), "principals-"));
    try {
      const path = join(dir, "p.json");
      await writeFile(path, "[{");
      expect(() => loadPrincipalsFile(path)).toThrow(AppError);
      expect(() => loadPrincipalsFile(join(dir, "missing.json"))).toThrow(expect.objectContaining({ code: "invalid_argument" }) as Error);
      await writeFile(path, JSON.stringify([{ authid: "a", role: "r", ticket: "t" }]));
      expect(loadPrincipalsFile(path)).toEqual([{ authid: "a", role: "r", ticket: "t" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
