import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createDeployer, renderTemplate, targetDir, type DeployContext } from "../../src/deploy/index.js";
import { buildOutputs, captureLines, isAlive, okVariant, readMaybe, variants } from "./fixtures.js";

let base: string;
let stateDir: string;
let out: Record<string, string>;

// A state directory whose path is hostile in every way a shell could care about.
const hostile = `it's a "dir" $(touch PWNED); echo \`id\` & x`;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "deploy-command-"));
  stateDir = join(base, hostile);
  await mkdir(stateDir, { recursive: true });
  out = await buildOutputs({ v1: okVariant(), v2: okVariant(), broken: variants.fail(), hang: variants.hang() });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function ctx(deployment: string, generation: number, outputs: string[], extra: Partial<DeployContext> = {}) {
  const captured = captureLines();
  const c: DeployContext = { tenant: "acme", deployment, sync: `s${generation}`, generation, outputs, onLine: captured.onLine, ...extra };
  return { c, lines: captured.lines };
}

describe("command deployer", () => {
  it("substitutes placeholders per argv element; hostile values stay one literal argument", async () => {
    const record = join(base, "argv.bin");
    const script = join(base, "record.sh");
    await writeFile(script, `printf '%s\\0' "$@" > "$RECORD_FILE"\necho "secret: $TOKEN"\n`);
    await writeFile(join(base, "token"), "tok-123456\n");
    await writeFile(join(base, "record-path"), record);
    const literal = `literal $(touch PWNED2); echo 'q' "dq" ; rm -rf /`;
    const deployer = createDeployer(
      { kind: "command", apply: ["/bin/sh", script, "{out}", "x{tenant}/{deployment}y", "{generation}", "{target}", literal, "{unknown}"], rollback_on_failure: true },
      { stateDir },
    );
    const run = ctx("mastodon", 7, [out.v1!], { secrets: { TOKEN: join(base, "token"), RECORD_FILE: join(base, "record-path") } });
    await deployer.apply(run.c);
    const args = (await readFile(record, "utf8")).split("\0").slice(0, -1);
    expect(args).toEqual([out.v1, "xacme/mastodony", "7", targetDir(stateDir, "acme", "mastodon"), literal, "{unknown}"]);
    expect(await readMaybe(join(base, "PWNED"))).toBeNull();
    expect(await readMaybe(join(process.cwd(), "PWNED2"))).toBeNull();
    expect(run.lines).toContain("secret: [REDACTED]");
    expect(run.lines.join("\n")).not.toContain("tok-123456");
  });

  it("renders templates without splitting", () => {
    const v = { out: "/nix/store/x", deployment: "d", tenant: "t", generation: "3", target: "a b; $(c)" };
    expect(renderTemplate(["--dir={target}", "{target}{target}"], v)).toEqual(["--dir=a b; $(c)", "a b; $(c)a b; $(c)"]);
  });

  it("applies, rolls back by re-applying the old outputs after a failure, and tears down", async () => {
    const deployer = createDeployer(
      { kind: "command", apply: ["{out}/bin/activate"], teardown: ["{out}/bin/deactivate"], rollback_on_failure: true },
      { stateDir },
    );
    const target = targetDir(stateDir, "acme", "pixelfed");
    await deployer.apply(ctx("pixelfed", 1, [out.v1!]).c);
    expect(await readMaybe(join(target, "active"))).toBe("v1\n");
    const bad = ctx("pixelfed", 2, [out.broken!], { previous: { generation: 1, outputs: [out.v1!] } });
    const err = (await deployer.apply(bad.c).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.message).toBe("deploy command failed (exit 3): broken about to fail; rolled back to generation 1");
    expect(await readMaybe(join(target, "active"))).toBe("v1\n");
    expect(await readMaybe(join(target, "v1.marker"))).toBe("1\n");

    await deployer.apply(ctx("pixelfed", 2, [out.v2!], { previous: { generation: 1, outputs: [out.v1!] } }).c);
    await deployer.rollback(ctx("pixelfed", 1, [out.v1!], { previous: { generation: 2, outputs: [out.v2!] } }).c);
    expect(await readMaybe(join(target, "active"))).toBe("v1\n");

    await deployer.teardown(ctx("pixelfed", 1, [out.v1!]).c);
    expect(await readMaybe(join(target, "active"))).toBeNull();
    expect(await readMaybe(join(target, "v1.marker"))).toBeNull();
  });

  it("uses the rollback template when given and skips teardown without one", async () => {
    const marker = join(base, "rolled-back");
    const deployer = createDeployer(
      { kind: "command", apply: ["{out}/bin/activate"], rollback: ["/bin/sh", "-c", 'echo "$1" > "$2"', "sh", "{generation}:{out}", marker], rollback_on_failure: true },
      { stateDir },
    );
    await deployer.rollback(ctx("peertube", 2, [out.v1!], { previous: { generation: 3, outputs: [out.v2!] } }).c);
    expect(await readMaybe(marker)).toBe(`2:${out.v1}\n`);
    const td = ctx("peertube", 3, [out.v2!]);
    await deployer.teardown(td.c);
    expect(td.lines).toContain("no teardown command configured; nothing to do");
  });

  it("kills the command's process group on timeout", async () => {
    const deployer = createDeployer({ kind: "command", apply: ["{out}/bin/activate"], rollback_on_failure: true }, { stateDir, killGraceMs: 500 });
    const err = (await deployer.apply(ctx("slow", 1, [out.hang!], { timeoutMs: 2000 }).c).catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe("timeout");
    expect(err.message).toBe("deploy timed out after 2s; nothing to roll back to");
    const target = targetDir(stateDir, "acme", "slow");
    expect(Number(await readMaybe(join(target, "sleep.pid")))).toBeGreaterThan(0);
    expect(await isAlive(Number(await readMaybe(join(target, "sleep.pid"))))).toBe(false);
    expect(await isAlive(Number(await readMaybe(join(target, "hang.pid"))))).toBe(false);
  });
});
