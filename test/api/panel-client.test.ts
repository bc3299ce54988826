/**
 * examples/panel_client.py (Debian's autobahn-python) against the embedded router with the API on
 * an in-memory service: submit per application, prefix subscription, replay after a dropped
 * connection without gaps or duplicates, logs.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./harness.js";

const script = fileURLToPath(new URL("../../examples/panel_client.py", import.meta.url));
const python = "/usr/bin/python3";

interface Line {
  type: string;
  [key: string]: unknown;
}

function runPanel(args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(python, [script, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 99) : 0;
      const lines = stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Line);
      resolve({ code, lines, stderr });
    });
  });
}

function checkEvents(lines: Line[], deployment: string): void {
  const seqs = lines.filter((l) => l.type === "event" && l["deployment"] === deployment).map((l) => l["seq"] as number);
  expect(seqs.length).toBeGreaterThan(5);
  // Each seq exactly once, in order, no gaps.
  expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
}

describe.skipIf(!existsSync(python))("panel_client.py", () => {
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await startApi({ prefixMatching: "string", stepMs: 40 });
  });
  afterAll(async () => harness?.close());

  it("submits per application as the panel, follows events, reads logs", async () => {
    const r = await runPanel([
      "--url", harness.url, "--authid", "panel", "--ticket", "panel-secret", "--tenant", "acme",
      "--deploy", "mastodon", "--deploy", "pixelfed", "--timeout", "30",
    ]);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(0);
    const results = r.lines.filter((l) => l.type === "result");
    expect(results.map((l) => [l["deployment"], l["state"]])).toEqual([
      ["mastodon", "succeeded"],
      ["pixelfed", "succeeded"],
    ]);
    checkEvents(r.lines, "mastodon");
    checkEvents(r.lines, "pixelfed");
    const logs = r.lines.filter((l) => l.type === "logs");
    expect(logs.map((l) => [l["lines"], l["complete"], l["last"]])).toEqual([
      [4, true, "done"],
      [4, true, "done"],
    ]);
  });

  it("replays after a dropped connection without gaps or duplicates (tenant session, msgpack)", async () => {
    const r = await runPanel([
      "--url", harness.url, "--authid", "joe", "--ticket", "joe-secret", "--serializer", "msgpack",
      "--deploy", "lemmy", "--drop-after", "3", "--timeout", "30",
    ]);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => l.type === "joined")).toHaveLength(2);
    expect(r.lines.some((l) => l.type === "dropped_connection")).toBe(true);
    checkEvents(r.lines, "lemmy");
    expect(r.lines.find((l) => l.type === "result")).toMatchObject({ state: "succeeded" });
  });

  it("reports a failed sync with a non-zero exit", async () => {
    const r = await runPanel([
      "--url", harness.url, "--authid", "panel", "--ticket", "panel-secret", "--tenant", "acme",
      "--deploy", `broken=${fileURLToPath(new URL("./fixtures/failing-config.json", import.meta.url))}`, "--timeout", "30",
    ]);
    expect(r.code).toBe(1);
    expect(r.lines.find((l) => l.type === "result")).toMatchObject({ state: "failed", error: { code: "build_failed" } });
  });
});
