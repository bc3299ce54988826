/**
 * The repository stands on its own: no tracked file may point at a path outside it (a folder
 * beside the checkout, a home or working directory of the machine it was written on, the temp dir
 * outside test data, a Markdown link that climbs out). What is matched, and why the temp dir is
 * allowed in tests, is in test/helpers/outside-paths.ts.
 */
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findOutsideMentions } from "../helpers/outside-paths.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Generated lists of registry URLs and hashes: nothing of ours to check. */
const skipped = new Set(["package-lock.json"]);

// Samples are assembled so that this file does not contain what it looks for.
const up = "..";
const root = (name: string) => `/${name}/`;

function trackedFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return out.split("\0").filter((f) => f.length > 0);
}

/** The text to check: a symlink's target, a text file's content, or null for binary or missing files. */
function textOf(file: string): string | null {
  const path = join(repoRoot, file);
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return null; // deleted in the working tree, not yet committed
  }
  if (stat.isSymbolicLink()) return readlinkSync(path);
  if (!stat.isFile()) return null;
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8192).includes(0)) return null;
  return bytes.toString("utf8");
}

describe("the repository stands on its own", () => {
  it("the matcher flags paths outside the repository and nothing else", () => {
    const flagged = (file: string, text: string) => findOutsideMentions(file, text).map((m) => m.rule);

    expect(flagged("README.md", `The contract is [api.md](${up}/shared/api.md).`)).toEqual(["sibling-folder", "markdown-link"]);
    expect(flagged("test/rio/x.test.ts", `readFileSync(resolve(repoRoot, "${up}/shared/facts.json"))`)).toEqual(["sibling-folder"]);
    expect(flagged("src/store/index.ts", `/** see ${root("work")}notes/store.md */`)).toEqual(["machine-path"]);
    expect(flagged("src/a.ts", `const home = "${root("home")}someone/.ssh";`)).toEqual(["machine-path"]);
    expect(flagged("docs/x.md", `cd ${root("root")}checkout`)).toEqual(["machine-path"]);
    expect(flagged("src/a.ts", `const dir = "${root("tmp")}fd-data";`)).toEqual(["temp-path"]);
    expect(flagged(".ci/run", `cp out ${root("tmp")}`)).toEqual(["temp-path"]);
    expect(flagged("docs/x.md", `see [notes](${up}/${up}/elsewhere.md)`)).toEqual(["markdown-link"]);
    expect(findOutsideMentions("src/a.ts", `ok\nconst x = "${root("work")}y";`)).toEqual([
      { line: 2, rule: "machine-path", text: `const x = "${root("work")}y";` },
    ]);

    // Not outside: repository-relative paths, imports that stay inside, other absolute paths,
    // URLs, interpolated bases, the temp dir in test data and in .gitignore, links inside docs/.
    const clean: [string, string][] = [
      ["src/api/views.ts", "The result shapes of the API contract (docs/api.md)."],
      ["src/rio/client.ts", 'import { AdminService } from "../../generated/admin_pb.js";'],
      ["src/a.ts", 'const store = "/nix/store"; const py = "/usr/bin/python3"; const state = "/var/lib/fediversity-deploy";'],
      ["docs/x.md", "See https://github.com/example/work/tree/main/home and https://host/tmp/x."],
      ["src/a.ts", "const target = `${dir}/work/x`; const other = join(tmpdir(), 'x');"],
      ["src/eval/nix-errors.test.ts", `file: "${root("tmp")}probe/bad.nix"`],
      ["test/hostile/security.test.ts", `const marker = \`${root("tmp")}hostile-pwned\`;`],
      [".gitignore", `${root("tmp")}`],
      ["docs/rio-build.md", "[local-scheduler.md](local-scheduler.md), [README](../README.md), [api](#procedures)"],
      ["README.md", "[operations](docs/operations.md) and [shared derivations](docs/rio-build.md#how-rio-behaves)"],
    ];
    for (const [file, text] of clean) expect(findOutsideMentions(file, text), `${file}: ${text}`).toEqual([]);
  });

  it("no tracked file names a path outside the repository", () => {
    const files = trackedFiles().filter((f) => !skipped.has(f));
    const offenders: string[] = [];
    let scanned = 0;
    for (const file of files) {
      const text = textOf(file);
      if (text === null) continue;
      scanned += 1;
      for (const m of findOutsideMentions(file, text)) offenders.push(`${file}:${m.line}: ${m.rule}: ${m.text}`);
    }
    // Cannot pass by scanning nothing: the checkout's own files were listed and read.
    expect(files).toEqual(expect.arrayContaining(["README.md", "package.json", "src/main.ts", "docs/api.md", "test/fixtures/rio-wire-facts.json"]));
    expect(scanned).toBeGreaterThan(200);
    expect(offenders).toEqual([]);
  });
});
