/**
 * Reads operator-referenced secret files into environment variables. Errors name the variable and
 * the file, never the content.
 */
import { readFile } from "node:fs/promises";
import { AppError } from "../errors.js";

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names the deployers set themselves; a secret may not shadow them. */
const reservedNames = new Set(["PATH", "NIX_CONFIG", "HOME"]);

export async function loadSecrets(
  refs: Readonly<Record<string, string>> = {},
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [name, file] of Object.entries(refs)) {
    if (!envNamePattern.test(name) || reservedNames.has(name) || name.startsWith("FEDIVERSITY_")) {
      throw new AppError("invalid_argument", `secret name ${JSON.stringify(name)} is not a usable environment variable name`, [
        { path: `secrets.${name}`, message: "must match [A-Za-z_][A-Za-z0-9_]* and not be PATH, HOME, NIX_CONFIG or FEDIVERSITY_*" },
      ]);
    }
    let content: string;
    try {
      content = await readFile(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
      throw new AppError("failed_precondition", `secret ${name}: cannot read file ${file} (${code})`);
    }
    // Files written by editors and `echo` end in a newline that is not part of the secret.
    values[name] = content.replace(/\r?\n$/, "");
  }
  return values;
}
