import { mkdtemp, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createDeployer, profileDir, targetDir, type DeployContext, type Deployer } from "../../src/deploy/index.js";
import { deployerConfigSchema } from "../../src/deploy/config.js";
import { buildOutputs, captureLines, isAlive, okVariant, readMaybe, variants } from "./fixtures.js";
import { startSshd, type TestSshd } from "./sshd.js";

let sshd: TestSshd;
let remoteState: string;
let out: Record<string, string>;
let deployer: Deployer;
const cleanup: string[] = [];

beforeAll(async () => {
  [sshd, out] = await Promise.all([
    startSshd(),
    buildOutputs({
      v1: okVariant(),
      v2: okVariant(),
      broken: variants.fail(),
      secret: variants.secret(),
      hang: variants.hang(),
      cmdline: {
        activate: `#!/bin/sh
set -eu
tr '\\0' ' ' < /proc/$PPID/cmdline > "$FEDIVERSITY_TARGET_DIR/parent.cmdline"
tr '\\0' ' ' < /proc/$$/cmdline > "$FEDIVERSITY_TARGET_DIR/self.cmdline"
printf '%s' "$NIX_CONFIG" > "$FEDIVERSITY_TARGET_DIR/nix.config"
printf '%s' "$PATH" > "$FEDIVERSITY_TARGET_DIR/path"
`,
      },
    }),
  ]);
  remoteState = await mkdtemp(join(tmpdir(), "deploy-remote-"));
  const config = deployerConfigSchema.parse({
    kind: "ssh",
    host: "127.0.0.1",
    user: userInfo().username,
    port: sshd.port,
    identity_file: sshd.identityFile,
    ssh_options: sshd.options,
    state_dir: remoteState,
  });
  deployer = createDeployer(config, { stateDir: "/unused-for-ssh", killGraceMs: 500 });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  if (remoteState) await rm(remoteState, { recursive: true, force: true });
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

function ctx(deployment: string, generation: number, outputs: string[], extra: Partial<DeployContext> = {}) {
  const captured = captureLines();
  const c: DeployContext = { tenant: "acme", deployment, sync: `s${generation}`, generation, outputs, onLine: captured.onLine, ...extra };
  return { c, lines: captured.lines };
}

describe("ssh deployer (local sshd on loopback)", () => {
  it("copies, applies, re-applies, rolls back on failure and tears down over ssh", async () => {
    const d = "mastodon";
    const profile = join(profileDir(remoteState, "acme", d), "profile");
    const target = targetDir(remoteState, "acme", d);
    const first = ctx(d, 1, [out.v1!]);
    const r1 = await deployer.apply(first.c);
    expect(r1.profileGeneration).toBe(1);
    expect(await readlink(profile)).toBe("profile-1-link");
    expect(await readMaybe(join(target, "v1.marker"))).toBe("1\n");
    expect(first.lines).toContain("v1 activated");
    expect(first.lines.some((l) => l.startsWith("copying 1 output closure(s) to "))).toBe(true);

    expect((await deployer.apply(ctx(d, 1, [out.v1!]).c)).profileGeneration).toBe(1);

    const r2 = await deployer.apply(ctx(d, 2, [out.v2!], { previous: { generation: 1, outputs: [out.v1!] } }).c);
    expect(r2.profileGeneration).toBe(2);
    expect(await readMaybe(join(target, "active"))).toBe("v2\n");

    const err = (await deployer.apply(ctx(d, 3, [out.broken!], { previous: { generation: 2, outputs: [out.v2!] } }).c).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.message).toMatch(/^activation failed \(exit 3\); rolled back to generation 2/);
    expect(await readlink(profile)).toBe("profile-2-link");

    await deployer.rollback(ctx(d, 1, [out.v1!], { previous: { generation: 2, outputs: [out.v2!] } }).c);
    expect(await readlink(profile)).toBe("profile-1-link");
    expect(await readMaybe(join(target, "active"))).toBe("v1\n");

    const td = ctx(d, 1, []);
    await deployer.teardown(td.c);
    expect(td.lines).toContain("v1 deactivated");
    expect(await readMaybe(join(target, "v1.marker"))).toBeNull();
    await expect(stat(profileDir(remoteState, "acme", d))).rejects.toThrow();
  });

  it("passes secrets on stdin: in the remote env, never on a command line, redacted in lines", async () => {
    const d = "secretive";
    const dir = await mkdtemp(join(tmpdir(), "deploy-ssh-secret-"));
    cleanup.push(dir);
    const secret = `ssh-S3cret '"$(x)"; ` + Math.random().toString(36).slice(2);
    await writeFile(join(dir, "s"), secret);
    const run = ctx(d, 1, [out.secret!, out.cmdline!], { secrets: { APP_SECRET: join(dir, "s") } });
    await deployer.apply(run.c);
    const target = targetDir(remoteState, "acme", d);
    expect(await readMaybe(join(target, "secret.seen"))).toBe(secret);
    expect(run.lines).toContain("the secret is [REDACTED]");
    expect(run.lines.join("\n")).not.toContain(secret);
    const parent = (await readMaybe(join(target, "parent.cmdline"))) ?? "";
    expect(parent).not.toContain(secret);
    const self = (await readMaybe(join(target, "self.cmdline"))) ?? "";
    expect(self).toContain(`${out.cmdline}/bin/activate`);
    expect(self).not.toContain(secret);
    expect(await readMaybe(join(target, "nix.config"))).toContain("build-users-group =");
    expect(await readMaybe(join(target, "path"))).toContain("/usr/bin:/bin");
    await deployer.teardown(ctx(d, 1, []).c);
  });

  it("kills the remote process group when the deploy is cancelled", async () => {
    const d = "slow";
    const controller = new AbortController();
    const run = ctx(d, 1, [out.hang!], { signal: controller.signal, timeoutMs: 60_000 });
    const pending = deployer.apply(run.c).catch((e: unknown) => e);
    while (!run.lines.includes("hanging")) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const err = (await pending) as AppError;
    expect(err.code).toBe("cancelled");
    expect(err.message).toBe("deploy cancelled");
    const target = targetDir(remoteState, "acme", d);
    const pids = [Number(await readMaybe(join(target, "hang.pid"))), Number(await readMaybe(join(target, "sleep.pid")))];
    expect(pids.every((p) => p > 0)).toBe(true);
    // The remote watcher notices the closed connection and kills the group (SIGTERM, SIGKILL after 1 s).
    const until = Date.now() + 5000;
    while (Date.now() < until && (await Promise.all(pids.map(isAlive))).some(Boolean)) await new Promise((r) => setTimeout(r, 100));
    expect(await Promise.all(pids.map(isAlive))).toEqual([false, false]);
  });

  it("reports an unreachable host as a failure", async () => {
    const unreachable = createDeployer(
      deployerConfigSchema.parse({ kind: "ssh", host: "127.0.0.1", port: 1, identity_file: sshd.identityFile, ssh_options: sshd.options, state_dir: remoteState }),
      { stateDir: "/unused" },
    );
    const err = (await unreachable.apply(ctx("x", 1, [out.v1!]).c).catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe("failed_precondition");
    expect(err.message).toMatch(/^ssh connection to root@127\.0\.0\.1 failed \(exit 255\): .*Connection refused/);
  });
});
