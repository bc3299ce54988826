/**
 * Numbered, append-only migrations: `migrations/NNNN_<concern>.sql`, applied in order, each in its
 * own transaction together with its row in `schema_version`. Applied migrations are never edited:
 * a change of schema is a new file. Opening a database written by a newer version is refused.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Database } from "better-sqlite3";
import { AppError } from "../errors.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const migrationsDir = fileURLToPath(new URL("./migrations/", import.meta.url));
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migrations shipped with this version, checked to be numbered 1, 2, 3… without gaps. */
export function loadMigrations(dir: string = migrationsDir): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => FILE.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2] ?? "", sql: readFileSync(`${dir}/${m[0]}`, "utf8") }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new AppError("internal", `migration ${m.version}_${m.name}: expected number ${i + 1}`);
  });
  return migrations;
}

/** Applies the missing migrations; returns the schema version afterwards. */
export function migrate(db: Database, migrations: readonly Migration[] = loadMigrations()): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = db.prepare("SELECT version, name FROM schema_version ORDER BY version").all() as { version: number; name: string }[];
  for (const row of applied) {
    const known = migrations[row.version - 1];
    if (!known) {
      throw new AppError("failed_precondition", `the database has schema version ${row.version} (${row.name}), newer than this program knows`);
    }
    if (known.name !== row.name) {
      throw new AppError("failed_precondition", `schema version ${row.version} is ${row.name} in the database but ${known.name} here`);
    }
  }
  const insert = db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)");
  for (const m of migrations.slice(applied.length)) {
    db.transaction(() => {
      db.exec(m.sql);
      insert.run(m.version, m.name, new Date().toISOString());
    }).immediate();
  }
  return migrations.length;
}
