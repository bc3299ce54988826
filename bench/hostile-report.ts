/**
 * Runs the hostile-input suite (test/hostile/) and prints its figures: fuzz cases run, crashes,
 * hangs, hostile Nix outcomes, faults survived, isolation cells checked, secrets leaked.
 *   npx tsx bench/hostile-report.ts            (FUZZ_SEED=<n> replays a fuzz run)
 * Exit code: that of vitest (non-zero when any check failed).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

interface Line {
  section: string;
  [k: string]: unknown;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "hostile-report-"));
  const file = join(dir, "report.jsonl");
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "node_modules/vitest/vitest.mjs"), "run", "test/hostile"], {
      cwd: repoRoot,
      env: { ...process.env, HOSTILE_REPORT_FILE: file },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("exit", (c) => resolve(c ?? 1));
  });
  const secs = (Date.now() - started) / 1000;
  let lines: Line[] = [];
  try {
    lines = (await readFile(file, "utf8"))
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Line);
  } catch {
    // nothing reported
  }
  await rm(dir, { recursive: true, force: true });
  const get = (section: string): Line | undefined => lines.filter((l) => l.section === section).at(-1);
  const num = (l: Line | undefined, k: string): number => (typeof l?.[k] === "number" ? (l[k] as number) : 0);
  const api = get("api-fuzz");
  const frames = get("frame-fuzz");
  const nix = get("hostile-nix");
  const faults = get("faults");
  const iso = get("isolation");
  const secrets = get("secrets");
  const limits = get("limits");
  const noShell = get("no-shell");
  const disk = get("disk-faults");
  const ro = get("readonly-fault");
  const longLines = get("long-lines");
  const nixFaults = (nix?.faultsSurvived as string[] | undefined) ?? [];
  const missing = ["api-fuzz", "frame-fuzz", "hostile-nix", "faults", "isolation", "secrets", "limits", "no-shell"].filter((s) => !get(s));

  const rows: [string, string][] = [
    ["fuzz cases run", `${num(api, "cases") + num(frames, "cases")} (API ${num(api, "cases")} over autobahn-js json/msgpack/cbor, seed ${String(api?.seed ?? "-")}; frames ${num(frames, "cases")} over raw ws, seed ${String(frames?.seed ?? "-")})`],
    ["  API outcomes", api ? `ok ${num(api, "ok")}, typed errors ${num(api, "typed")}, session closed by router ${num(api, "closed")}, internal ${num(api, "internal")}, untyped ${num(api, "untyped")}, not encodable by the client ${num(api, "unencodable")}, valid submits ${num(api, "validSubmits")} (${num(api, "secs").toFixed(1)} s)` : "-"],
    ["  frame outcomes", frames ? `answered ${num(frames, "answered")}, ABORT/close ${num(frames, "closed")}, router internal errors ${num(frames, "routerInternalErrors")} (${num(frames, "secs").toFixed(1)} s)` : "-"],
    ["crashes", String(num(api, "crashes") + num(frames, "crashes"))],
    ["hangs", String(num(api, "hangs") + num(frames, "hangs"))],
    ["hostile Nix configurations bounded", nix ? `${num(nix, "bounded")}/${num(nix, "cases")}; concurrent ordinary sync ${String(nix.ordinary)}` : "-"],
    ...((nix?.outcomes as { behaviour: string; state: string; code: string | null; message: string }[] | undefined) ?? []).map(
      (o): [string, string] => [`  ${o.behaviour}`, `${o.state} ${o.code ?? ""}: ${o.message.slice(0, 110)}`],
    ),
    ["enormous single lines", longLines ? `build 3 MB → ${String((longLines.build_long_line as { lines?: number })?.lines)} lines, activation 20 MB → ${String((longLines.deploy_long_line as { lines?: number })?.lines)} lines, longest ${Math.max(Number((longLines.build_long_line as { longest?: number })?.longest), Number((longLines.deploy_long_line as { longest?: number })?.longest))} chars` : "-"],
    ["faults survived", faults ? `${num(faults, "survived") + nixFaults.length} (${[...(faults.list as string[]), ...nixFaults].join(", ")})` : "-"],
    ["  disk full", disk ? `${String(disk.diskFull)}; reads ${String(disk.readWhileFull)}; after recovery ${String(disk.recoveredSync)}; integrity ${String(disk.integrity)}` : "-"],
    ["  database read-only", ro ? `${String(ro.readOnly)}; reads ${String(ro.readWhileReadOnly)}; after recovery ${String(ro.recoveredSync)}; integrity ${String(ro.integrity)}` : "-"],
    ["isolation cells checked", iso ? `${num(iso, "cells")} (wrong ${num(iso, "wrong")})` : "-"],
    ["secrets leaked", secrets ? `${num(secrets, "leaks")} (${num(secrets, "scanned")} sources, ${num(secrets, "bytes")} bytes scanned, ${num(secrets, "redactedSeen")} [REDACTED] markers seen)` : "-"],
    ["no-shell", noShell ? `${num(noShell, "offenders")} offending lines in ${num(noShell, "sourceFiles")} source files; ${num(noShell, "hostileStrings")} hostile strings end to end, pwned ${num(noShell, "pwned")}` : "-"],
    ["limits checked", limits ? `${num(limits, "checks")} (wrong ${num(limits, "wrong")})` : "-"],
    ["suite", `${secs.toFixed(0)} s, vitest exit ${code}${missing.length ? `; no figures from: ${missing.join(", ")}` : ""}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\nfediversity-deploy hostile-input report\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
