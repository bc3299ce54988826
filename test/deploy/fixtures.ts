// Tiny self-contained outputs with bin/activate and bin/deactivate, built with the real Nix
// (builtins.derivation, /bin/sh), salted per run so every test run gets fresh store paths.
import { mkdtemp, writeFile, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { nixEnv } from "../../src/nix-env.js";
import type { DeployContext } from "../../src/deploy/index.js";

export interface Variant {
  readonly activate: string;
  readonly deactivate?: string;
}

const defaultDeactivate = `#!/bin/sh
set -eu
rm -f "$FEDIVERSITY_TARGET_DIR/$NAME.marker" "$FEDIVERSITY_TARGET_DIR/active"
echo "$NAME deactivated"
`;

/** Writes `<name>.marker` (its generation) and `active` (its name) into the target dir. */
export function okVariant(): Variant {
  return {
    activate: `#!/bin/sh
set -eu
printf '%s\\n' "$FEDIVERSITY_GENERATION" > "$FEDIVERSITY_TARGET_DIR/$NAME.marker"
printf '%s\\n' "$NAME" > "$FEDIVERSITY_TARGET_DIR/active"
echo "$NAME activated"
echo "$NAME to stderr" >&2
`,
  };
}

export const variants = {
  ok: okVariant,
  fail: (): Variant => ({ activate: `#!/bin/sh\necho "$NAME about to fail" >&2\nexit 3\n` }),
  hang: (): Variant => ({
    activate: `#!/bin/sh
echo $$ > "$FEDIVERSITY_TARGET_DIR/hang.pid"
sleep 300 &
echo $! > "$FEDIVERSITY_TARGET_DIR/sleep.pid"
echo "hanging"
wait
`,
  }),
  stubborn: (): Variant => ({
    activate: `#!/bin/sh
trap '' TERM
echo $$ > "$FEDIVERSITY_TARGET_DIR/hang.pid"
sleep 300 &
echo $! > "$FEDIVERSITY_TARGET_DIR/sleep.pid"
echo "ignoring SIGTERM"
while true; do wait; done
`,
  }),
  secret: (): Variant => ({
    activate: `#!/bin/sh
set -eu
printf '%s' "$APP_SECRET" > "$FEDIVERSITY_TARGET_DIR/secret.seen"
echo "the secret is $APP_SECRET"
echo "stderr secret $APP_SECRET" >&2
printf '%s\\n' "$NAME" > "$FEDIVERSITY_TARGET_DIR/active"
exit "$(cat "$FEDIVERSITY_TARGET_DIR/exit-code" 2>/dev/null || echo 0)"
`,
  }),
} satisfies Record<string, () => Variant>;

const expr = `{ specFile }:
let spec = builtins.fromJSON (builtins.readFile specFile);
in builtins.mapAttrs (name: v: builtins.derivation {
  name = "deploy-test-\${name}-\${spec.salt}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  PATH = "/usr/bin:/bin";
  activate = v.activate;
  deactivate = v.deactivate;
  appName = name;
  args = [ "-c" ''
    set -e
    mkdir -p $out/bin
    printf '#!/bin/sh\\nNAME=%s\\nexport NAME\\n' "$appName" > $out/bin/header
    { cat $out/bin/header; printf '%s' "$activate" | tail -n +2; } > $out/bin/activate
    { cat $out/bin/header; printf '%s' "$deactivate" | tail -n +2; } > $out/bin/deactivate
    rm $out/bin/header
    chmod +x $out/bin/activate $out/bin/deactivate
  '' ];
}) spec.outputs
`;

/** Builds one output per entry; returns name → store path. */
export async function buildOutputs(specs: Record<string, Variant>): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "deploy-fixture-"));
  try {
    const salt = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const outputs = Object.fromEntries(
      Object.entries(specs).map(([name, v]) => [name, { activate: v.activate, deactivate: v.deactivate ?? defaultDeactivate }]),
    );
    await writeFile(join(dir, "spec.json"), JSON.stringify({ salt, outputs }));
    await writeFile(join(dir, "outputs.nix"), expr);
    const names = Object.keys(specs);
    const res = await execa(
      "nix-build",
      [join(dir, "outputs.nix"), "--arg", "specFile", join(dir, "spec.json"), "--no-out-link", ...names.flatMap((n) => ["-A", n])],
      { env: nixEnv(process.env) },
    );
    const paths = res.stdout.trim().split("\n");
    return Object.fromEntries(names.map((n, i) => [n, paths[i] ?? ""]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Captured {
  readonly lines: string[];
  readonly onLine: DeployContext["onLine"];
}

/** Collects deploy lines; DEPLOY_TEST_TRACE=1 also prints them with millisecond offsets. */
export function captureLines(): Captured {
  const lines: string[] = [];
  const trace = process.env.DEPLOY_TEST_TRACE ? Date.now() : null;
  return {
    lines,
    onLine: (_source, text) => {
      if (trace !== null) console.log(Date.now() - trace, text);
      lines.push(text);
    },
  };
}

export async function readMaybe(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

/** True while the process exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readMaybe(`/proc/${pid}/stat`);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}
