#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, so `npm link` / `npx fediversity-deploy` work
// without a separate build step.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const result = spawnSync(tsx, [join(root, "src", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
