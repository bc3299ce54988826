#!/usr/bin/env node
// Runs the TypeScript entry point with tsx's loader inside this Node process's child, so
// `npm link` / `npx fediversity-deploy` work without a separate build step.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Resolved from this package, not from the caller's directory.
const tsxLoader = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href;
const result = spawnSync(process.execPath, ["--import", tsxLoader, join(root, "src", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
