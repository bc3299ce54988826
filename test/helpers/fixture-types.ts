/**
 * Test deployment types live beside their Nix files with relative paths; this writes a copy into a
 * test's temp dir with absolute entry paths and a fresh secret file, so each test owns its secret.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export async function materializeFixtureTypes(
  fixtureDir: string,
  dir: string,
  secret: { readonly file: string; readonly value: string },
): Promise<{ typesPath: string; secret: string }> {
  const doc = JSON.parse(await readFile(join(fixtureDir, "deployment-types.json"), "utf8")) as {
    deployment_types: Record<string, { entry: { file: string }; secrets: Record<string, string> }>;
  };
  await mkdir(join(dir, "secrets"), { recursive: true });
  await writeFile(join(dir, "secrets", secret.file), `${secret.value}\n`, { mode: 0o600 });
  for (const t of Object.values(doc.deployment_types)) {
    t.entry.file = join(fixtureDir, t.entry.file);
    t.secrets = Object.fromEntries(Object.entries(t.secrets).map(([k, v]) => [k, join(dir, v)]));
  }
  const typesPath = join(dir, "deployment-types.json");
  await writeFile(typesPath, JSON.stringify(doc, null, 2));
  return { typesPath, secret: secret.value };
}
