/** The key file that seals webhook secrets: made once with mode 600, reused, refused when others can read it or it is malformed. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createSecretBox, loadOrCreateKeyFile } from "../../src/webhooks/index.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "webhook-key-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("webhook key file", () => {
  it("is created with mode 600 on first use and read back the same afterwards", () => {
    const path = join(tempDir(), "webhook-secrets.key");
    const key = loadOrCreateKeyFile(path);
    expect(key).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
    expect(loadOrCreateKeyFile(path).equals(key)).toBe(true);
    // A secret sealed before a restart opens after it.
    const sealed = createSecretBox(key).seal("wh", "whsec_abc");
    expect(createSecretBox(loadOrCreateKeyFile(path)).open("wh", sealed)).toBe("whsec_abc");
  });

  it("is refused when group or others may read it, or when it is not 64 hex digits", () => {
    const dir = tempDir();
    const loose = join(dir, "loose.key");
    writeFileSync(loose, `${"ab".repeat(32)}\n`);
    chmodSync(loose, 0o644);
    expect(() => loadOrCreateKeyFile(loose)).toThrow(/readable by others \(mode 644\)/);
    const bad = join(dir, "bad.key");
    writeFileSync(bad, "not hex", { mode: 0o600 });
    let caught: unknown;
    try {
      loadOrCreateKeyFile(bad);
    } catch (err) {
      caught = err;
    }
    expect(AppError.is(caught, "failed_precondition")).toBe(true);
  });
});
