// The committed schema dump (src/store/schema.sql) must match what the migrations produce, so a
// schema change is visible in review. Regenerate with: UPDATE_SCHEMA=1 npx vitest run test/store/schema.test.ts
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "./fixture.js";

const dumpPath = fileURLToPath(new URL("../../src/store/schema.sql", import.meta.url));

it("the committed schema dump matches the migrations", () => {
  const store = openStore({ path: join(tempDir(), "schema.db") });
  store.close();
  const db = new BetterSqlite3(store.path);
  const rows = db
    .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name")
    .all() as { sql: string }[];
  db.close();
  const dump = `-- Generated from src/store/migrations by test/store/schema.test.ts; do not edit.\n${rows.map((r) => `${r.sql};`).join("\n\n")}\n`;
  if (process.env["UPDATE_SCHEMA"] === "1") writeFileSync(dumpPath, dump);
  expect(dump).toBe(readFileSync(dumpPath, "utf8"));
});
