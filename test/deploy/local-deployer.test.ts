import { mkdir, mkdtemp, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createDeployer, profileDir, targetDir, type DeployContext, type Deployer } from "../../src/deploy/index.js";
import { buildOutputs, captureLines, isAlive, okVariant, readMaybe, variants } from "./fixtures.js";

let stateDir: string;
let out: Record<string, string>;
let deployer: Deployer;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "deploy-local-"));
  out = await buildOutputs({
    v1: okVariant(),
    v2: okVariant(),
    other: okVariant(),
    broken: variants.fail(),
    hang: variants.hang(),
    stubborn: variants.stubborn(),
    secret: variants.secret(),
  });
  deployer = createDeployer({ kind: "local", rollback_on_failure: true }, { stateDir, killGraceMs: 500 });
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function ctx(deployment: string, generation: number, outputs: string[], extra: Partial<DeployContext> = {}) {
  const captured = captureLines();
  const c: DeployContext = { tenant: "acme", deployment, sync: `sync-${generation}`, generation, outputs, onLine: captured.onLine, ...extra };
  return { c, lines: captured.lines };
}

const profileOf = (deployment: string) => join(profileDir(stateDir, "acme", deployment), "profile");
const targetOf = (deployment: string) => targetDir(stateDir, "acme", deployment);

describe("local deployer", () => {
  it("applies, re-applies idempotently, applies again, rolls back and tears down", async () => {
    const d = "mastodon";
    const first = ctx(d, 1, [out.v1!]);
    const r1 = await deployer.apply(first.c);
    expect(r1.profileGeneration).toBe(1);
    expect(await readlink(profileOf(d))).toBe("profile-1-link");
    expect(await readlink(`${profileOf(d)}-1-link`)).toBe(out.v1);
    expect(await readMaybe(join(targetOf(d), "v1.marker"))).toBe("1\n");
    expect(first.lines).toContain("v1 activated");
    expect(first.lines).toContain("v1 to stderr");

    // The engine re-runs an interrupted deploy: same generation, no new profile generation.
    const again = await deployer.apply(ctx(d, 1, [out.v1!]).c);
    expect(again.profileGeneration).toBe(1);
    expect(await readMaybe(`${profileOf(d)}-2-link`)).toBeNull();

    const r2 = await deployer.apply(ctx(d, 2, [out.v2!], { previous: { generation: 1, outputs: [out.v1!] } }).c);
    expect(r2.profileGeneration).toBe(2);
    expect(await readlink(profileOf(d))).toBe("profile-2-link");
    expect(await readMaybe(join(targetOf(d), "active"))).toBe("v2\n");

    const rb = await deployer.rollback(ctx(d, 1, [out.v1!], { previous: { generation: 2, outputs: [out.v2!] } }).c);
    expect(rb.profileGeneration).toBe(1);
    expect(await readlink(profileOf(d))).toBe("profile-1-link");
    expect(await readMaybe(join(targetOf(d), "active"))).toBe("v1\n");
    // The stored generation 1 was reused, not a new one made.
    expect(await readMaybe(`${profileOf(d)}-3-link`)).toBeNull();

    const td = ctx(d, 1, [out.v1!]);
    await deployer.teardown(td.c);
    expect(await readMaybe(join(targetOf(d), "v1.marker"))).toBeNull();
    expect(await readMaybe(join(targetOf(d), "active"))).toBeNull();
    await expect(stat(profileDir(stateDir, "acme", d))).rejects.toThrow();
    expect(td.lines).toContain("v1 deactivated");

    // Teardown again (crash recovery) is a no-op.
    await expect(deployer.teardown(ctx(d, 1, []).c)).resolves.toEqual({ outputs: [], profileGeneration: null });
  });

  it("rolls back automatically when activation fails and says so", async () => {
    const d = "pixelfed";
    await deployer.apply(ctx(d, 1, [out.v1!]).c);
    await deployer.apply(ctx(d, 2, [out.v2!], { previous: { generation: 1, outputs: [out.v1!] } }).c);
    const bad = ctx(d, 3, [out.broken!], { previous: { generation: 2, outputs: [out.v2!] } });
    const err = await deployer.apply(bad.c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/^activation failed \(exit 3\); rolled back to generation 2/);
    expect(bad.lines).toContain("broken about to fail");
    expect(await readlink(profileOf(d))).toBe("profile-2-link");
    expect(await readMaybe(join(targetOf(d), "active"))).toBe("v2\n");

    // A rollback whose activation fails falls back to the live generation the same way.
    const badRollback = (await deployer
      .rollback(ctx(d, 3, [out.broken!], { previous: { generation: 2, outputs: [out.v2!] } }).c)
      .catch((e: unknown) => e)) as AppError;
    expect(badRollback.message).toMatch(/^activation failed \(exit 3\); rolled back to generation 2/);
    expect(await readlink(profileOf(d))).toBe("profile-2-link");
  });

  it("keeps the failed generation when rollback_on_failure is off, and removes it when there is nothing to roll back to", async () => {
    const noRollback = createDeployer({ kind: "local", rollback_on_failure: false }, { stateDir });
    await noRollback.apply(ctx("peertube", 1, [out.v1!]).c);
    const err = await noRollback.apply(ctx("peertube", 2, [out.broken!], { previous: { generation: 1, outputs: [out.v1!] } }).c).catch((e: unknown) => e);
    expect((err as AppError).message).toMatch(/activation failed \(exit 3\).*rollback_on_failure is off/);
    expect(await readlink(profileOf("peertube"))).toBe("profile-2-link");

    const first = await deployer.apply(ctx("fresh", 1, [out.broken!]).c).catch((e: unknown) => e);
    expect((first as AppError).message).toMatch(/nothing to roll back to/);
    await expect(stat(profileDir(stateDir, "acme", "fresh"))).rejects.toThrow();
  });

  it("activates several outputs in order through one bundled profile generation", async () => {
    const d = "multi";
    const run = ctx(d, 1, [out.v1!, out.other!]);
    const r = await deployer.apply(run.c);
    expect(r.profileGeneration).toBe(1);
    expect(await readlink(`${profileOf(d)}-1-link`)).toMatch(/-fediversity-outputs\.json$/);
    expect(run.lines.filter((l) => l.endsWith("activated"))).toEqual(["v1 activated", "other activated"]);
    expect(await readMaybe(join(targetOf(d), "active"))).toBe("other\n");
    const td = ctx(d, 1, []);
    await deployer.teardown(td.c);
    expect(td.lines.filter((l) => l.endsWith("deactivated"))).toEqual(["other deactivated", "v1 deactivated"]);
    expect(await readMaybe(join(targetOf(d), "v1.marker"))).toBeNull();
  });

  it("passes secrets in the environment and redacts them from lines and errors", async () => {
    const d = "secretive";
    const secretsDir = join(stateDir, "secrets");
    await mkdir(secretsDir);
    const secret = "s3cr3t-Value-" + Math.random().toString(36).slice(2);
    await writeFile(join(secretsDir, "app"), secret + "\n");
    const secrets = { APP_SECRET: join(secretsDir, "app") };
    const ok = ctx(d, 1, [out.secret!], { secrets });
    await deployer.apply(ok.c);
    expect(await readMaybe(join(targetOf(d), "secret.seen"))).toBe(secret);
    expect(ok.lines).toContain("the secret is [REDACTED]");
    expect(ok.lines).toContain("stderr secret [REDACTED]");
    expect(ok.lines.join("\n")).not.toContain(secret);

    await writeFile(join(targetOf(d), "exit-code"), "4");
    const bad = ctx(d, 2, [out.secret!], { secrets });
    const err = (await deployer.apply(bad.c).catch((e: unknown) => e)) as AppError;
    expect(err.message).toContain("activation failed (exit 4)");
    expect(err.message).toContain("[REDACTED]");
    expect(err.message).not.toContain(secret);
    expect(bad.lines.join("\n")).not.toContain(secret);

    const missing = (await deployer.apply(ctx(d, 3, [out.v1!], { secrets: { APP_SECRET: join(secretsDir, "nope") } }).c).catch((e: unknown) => e)) as AppError;
    expect(missing.code).toBe("failed_precondition");
    expect(missing.message).toBe(`secret APP_SECRET: cannot read file ${join(secretsDir, "nope")} (ENOENT)`);
  });

  it("kills the activation's process group on timeout and rolls back", async () => {
    const d = "slow";
    await deployer.apply(ctx(d, 1, [out.v1!]).c);
    const started = Date.now();
    const err = (await deployer
      .apply(ctx(d, 2, [out.hang!], { timeoutMs: 3000, previous: { generation: 1, outputs: [out.v1!] } }).c)
      .catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe("timeout");
    expect(err.message).toBe("deploy timed out after 3s; rolled back to generation 1");
    expect(Date.now() - started).toBeLessThan(10_000);
    const shPid = Number(await readMaybe(join(targetOf(d), "hang.pid")));
    const sleepPid = Number(await readMaybe(join(targetOf(d), "sleep.pid")));
    expect(shPid > 0 && sleepPid > 0).toBe(true);
    expect(await isAlive(shPid)).toBe(false);
    expect(await isAlive(sleepPid)).toBe(false);
    expect(await readMaybe(join(targetOf(d), "active"))).toBe("v1\n");
  });

  it("escalates to SIGKILL and does not roll back when aborted", async () => {
    const d = "stubborn";
    const controller = new AbortController();
    const run = ctx(d, 1, [out.stubborn!], { signal: controller.signal });
    const pending = deployer.apply(run.c).catch((e: unknown) => e);
    while (!run.lines.includes("ignoring SIGTERM")) await new Promise((r) => setTimeout(r, 50));
    const abortedAt = Date.now();
    controller.abort();
    const err = (await pending) as AppError;
    expect(err.code).toBe("cancelled");
    expect(Date.now() - abortedAt).toBeGreaterThanOrEqual(450); // SIGTERM ignored: waited for the grace
    const shPid = Number(await readMaybe(join(targetOf(d), "hang.pid")));
    const sleepPid = Number(await readMaybe(join(targetOf(d), "sleep.pid")));
    expect(shPid > 0 && sleepPid > 0).toBe(true);
    expect(await isAlive(shPid)).toBe(false);
    expect(await isAlive(sleepPid)).toBe(false);
  });

  it("rejects ids and paths that are not what they claim", async () => {
    await expect(deployer.apply(ctx("Bad Name", 1, [out.v1!]).c)).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(deployer.apply(ctx("ok", 1, ["/tmp/not-a-store-path; rm -rf /"]).c)).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(deployer.rollback(ctx("ok", 1, []).c)).rejects.toThrow("nothing to roll back to: no outputs");
  });
});
