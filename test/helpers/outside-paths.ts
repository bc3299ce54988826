/**
 * Finds mentions of paths outside the repository in a file's text: the background folder that
 * sat beside the checkout while the project started (`shared`, one level up), absolute paths under
 * the machine roots that hold people's and agents' working copies (work, root, home, Users), the
 * system temp dir (tmp, see below), and Markdown links that climb out of the repository.
 *
 * The temp dir is allowed in test code, where it appears only as sample data (hostile inputs,
 * Nix error texts, invalid store paths); everything that needs a temp directory uses
 * `os.tmpdir()`. It is allowed in `.gitignore` too, whose leading slash means the repository root.
 */
import { posix } from "node:path";

export interface OutsideMention {
  readonly line: number;
  readonly rule: "sibling-folder" | "machine-path" | "temp-path" | "markdown-link";
  readonly text: string;
}

// The parts are joined at run time so that this file does not itself mention them.
const up = "..";
const siblingFolder = new RegExp(`(^|[^\\w.])${escape(`${up}/shared`)}(?![\\w-])`);
// A path root: not glued to a word, a dot, a tilde or the end of an interpolation (`${dir}/work`).
const rootStart = "(?<![\\w.~$})\\]-])/";
const rootEnd = "(?![\\w.-])";
const machineRoots = new RegExp(`${rootStart}(${["work", "root", "home", "Users"].join("|")})${rootEnd}`);
const tempRoot = new RegExp(`${rootStart}${"tmp"}${rootEnd}`);
const markdownLink = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether `/tmp`-style sample data is acceptable in this file (see the module comment). */
export function allowsTempPaths(file: string): boolean {
  return file === ".gitignore" || file.startsWith("test/") || file.endsWith(".test.ts");
}

/** Mentions in `text` of the file at repository-relative `file` that point outside the repository. */
export function findOutsideMentions(file: string, text: string): OutsideMention[] {
  const found: OutsideMention[] = [];
  const isMarkdown = file.endsWith(".md");
  text.split("\n").forEach((content, i) => {
    const line = i + 1;
    const add = (rule: OutsideMention["rule"]) => found.push({ line, rule, text: content.trim().slice(0, 200) });
    if (siblingFolder.test(content)) add("sibling-folder");
    if (machineRoots.test(content)) add("machine-path");
    if (tempRoot.test(content) && !allowsTempPaths(file)) add("temp-path");
    if (isMarkdown) {
      for (const m of content.matchAll(markdownLink)) {
        const target = m[1] ?? "";
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#") || target.startsWith("/")) continue;
        const resolved = posix.normalize(posix.join(posix.dirname(file), target));
        if (resolved === ".." || resolved.startsWith("../")) add("markdown-link");
      }
    }
  });
  return found;
}
