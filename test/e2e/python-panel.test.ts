/**
 * examples/panel_client.py (Debian's autobahn-python, the panel's library) against the real
 * service, on json, msgpack and cbor: the panel acting for a tenant, a tenant session that drops
 * its connection and replays, a failed build, and a cross-tenant attempt.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/main.js";
import { allEvents, connectWamp, freshSalt, isContiguous, makeE2eDir, repoRoot, startInProcess, type E2eDir, type LogLine, type Principal, type Wamp } from "../helpers/e2e-service.js";

const python = "/usr/bin/python3";
const script = join(repoRoot, "examples/panel_client.py");

interface Line {
  type: string;
  [key: string]: unknown;
}

let dir: E2eDir;
let service: RunningService;
let panel: Wamp;

beforeAll(async () => {
  dir = await makeE2eDir();
  service = await startInProcess(dir);
  panel = await connectWamp(service.url, dir.principals.panel);
});

afterAll(async () => {
  await panel?.close();
  await service?.stop();
  await dir?.remove();
});

async function config(name: string, value: Record<string, unknown>): Promise<string> {
  const path = join(dir.dir, `${name}-${freshSalt()}.json`);
  await writeFile(path, JSON.stringify(value));
  return path;
}

function runPanel(who: Principal, args: string[]): Promise<{ code: number; lines: Line[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      python,
      [script, "--url", service.url, "--authid", who.authid, `--ticket=${who.ticket}`, "--type", "e2e", "--timeout", "90", ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 99) : 0;
        const lines = stdout
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as Line);
        resolve({ code, lines, stderr });
      },
    );
  });
}

/** The events the script printed for `deployment` are exactly the stored ones from its start. */
async function checkEvents(lines: Line[], tenant: string, deployment: string): Promise<void> {
  const printed = lines.filter((l) => l.type === "event" && l["deployment"] === deployment);
  expect(printed.length).toBeGreaterThan(5);
  const seqs = printed.map((l) => l["seq"] as number);
  expect(isContiguous(seqs, seqs[0])).toBe(true);
  const stored = await allEvents(panel, deployment, tenant, (seqs[0] ?? 1) - 1);
  // The script prints `dict(event, type="event", event_type=event["type"])`.
  expect(printed.map(({ type: _t, event_type, ...rest }) => ({ ...rest, type: event_type }))).toEqual(stored);
}

describe.skipIf(!existsSync(python))("examples/panel_client.py against the real service", () => {
  it("submits two applications as the panel for a tenant and follows them (json)", async () => {
    const r = await runPanel(dir.principals.panel, [
      "--tenant", "acme", "--serializer", "json",
      "--deploy", `mastodon=${await config("m", { salt: freshSalt(), lines: 7 })}`,
      "--deploy", `pixelfed=${await config("p", { salt: freshSalt(), lines: 2 })}`,
    ]);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatchObject({ type: "joined", authid: "panel", authrole: "panel", tenant: "acme" });
    expect(r.lines.filter((l) => l.type === "result").map((l) => [l["deployment"], l["state"], l["gaps"]])).toEqual([
      ["mastodon", "succeeded", 0],
      ["pixelfed", "succeeded", 0],
    ]);
    await checkEvents(r.lines, "acme", "mastodon");
    await checkEvents(r.lines, "acme", "pixelfed");
    for (const [dep, n] of [["mastodon", 7], ["pixelfed", 2]] as const) {
      const logsLine = r.lines.find((l) => l.type === "logs" && l["deployment"] === dep);
      const stored = await panel.call<{ lines: LogLine[] }>("fediversity.build.logs", { tenant: "acme", deployment: dep, sync: logsLine?.["sync"], limit: 10_000 });
      expect(logsLine).toMatchObject({ complete: true, lines: stored.lines.length, first: "e2e line 0", last: "e2e activated" });
      expect(stored.lines.filter((l) => l.text.startsWith("e2e line "))).toHaveLength(n);
    }
  });

  it("replays after a dropped connection without gaps or duplicates (tenant session, msgpack)", async () => {
    const r = await runPanel(dir.principals.beta, [
      "--serializer", "msgpack", "--drop-after", "3",
      "--deploy", `lemmy=${await config("l", { salt: freshSalt(), build_sleep_secs: 1 })}`,
    ]);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => l.type === "joined")).toEqual([
      expect.objectContaining({ authid: "beta-admin", authrole: "tenant", tenant: "beta" }),
      expect.objectContaining({ authid: "beta-admin", tenant: "beta" }),
    ]);
    expect(r.lines.some((l) => l.type === "dropped_connection")).toBe(true);
    await checkEvents(r.lines, "beta", "lemmy");
    expect(r.lines.find((l) => l.type === "result")).toMatchObject({ state: "succeeded" });
  });

  it("reports a failed build with exit code 1 (cbor)", async () => {
    const r = await runPanel(dir.principals.panel, [
      "--tenant", "beta", "--serializer", "cbor",
      "--deploy", `broken=${await config("b", { salt: freshSalt(), fail_build: true })}`,
    ]);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(1);
    expect(r.lines.find((l) => l.type === "result")).toMatchObject({ deployment: "broken", state: "failed", error: { code: "build_failed" } });
    await checkEvents(r.lines, "beta", "broken");
  });

  it("is refused another tenant's topics, and gets invalid_argument with details (json)", async () => {
    // The script subscribes to beta's topics first: the router refuses that subscription.
    const other = await runPanel(dir.principals.acme, ["--tenant", "beta", "--deploy", `x=${await config("x", { salt: freshSalt() })}`]);
    expect(other.code).toBe(3);
    expect(other.lines.find((l) => l.type === "error")).toMatchObject({ uri: "wamp.error.not_authorized" });
    const bad = await runPanel(dir.principals.acme, ["--deploy", `y=${await config("y", { salt: freshSalt(), domain: "NOPE" })}`]);
    expect(bad.code).toBe(3);
    expect(bad.lines.find((l) => l.type === "error")).toMatchObject({
      uri: "fediversity.error.invalid_argument",
      kwargs: { code: "invalid_argument", details: [expect.objectContaining({ path: "configuration.domain" })] },
    });
    await expect(panel.fail("fediversity.deployment.get", { tenant: "beta", deployment: "x" })).resolves.toMatchObject({ error: "fediversity.error.not_found" });
  });
});
