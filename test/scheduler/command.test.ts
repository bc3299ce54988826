import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { connectScheduler } from "../helpers/scheduler-test-client.js";

const entry = fileURLToPath(new URL("../../src/scheduler/index.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sched-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCommand(args: string[]) {
  const script = `import(${JSON.stringify(entry)}).then((m) => m.runSchedulerCommand(${JSON.stringify(args)})).then((code) => process.exit(code))`;
  return execa("node", ["--import", "tsx", "-e", script], { reject: false, buffer: true });
}

/** The URL from the "scheduler listening on ..." line the command prints to stderr. */
function listeningUrl(child: ReturnType<typeof runCommand>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no listening line")), 20_000);
    child.stderr!.on("data", (d: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(d.toString());
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

describe("scheduler command", () => {
  it("serves on --listen until SIGTERM, keeping tenants in --state", async () => {
    const state = join(dir, "state.db");
    const child = runCommand(["--listen", "127.0.0.1:0", "--state", state, "--max-jobs", "3"]);
    const url = await listeningUrl(child);
    const c = connectScheduler(url);
    expect((await c.admin.clusterStatus({})).totalExecutors).toBe(3);
    await c.admin.createTenant({ tenantName: "kept" });
    child.kill("SIGTERM");
    expect((await child).exitCode).toBe(0);

    const again = runCommand(["--listen", "127.0.0.1:0", "--state", state]);
    const url2 = await listeningUrl(again);
    const tenants = await connectScheduler(url2).admin.listTenants({});
    expect(tenants.tenants.map((t) => t.tenantName)).toEqual(["kept"]);
    again.kill("SIGTERM");
    expect((await again).exitCode).toBe(0);
  });

  it("rejects unknown flags with exit code 2", async () => {
    const r = await runCommand(["--bogus"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("usage:");
  });
});
