/**
 * The scheduler's durable state (rio keeps it in PostgreSQL): builds, their DAG rows, tenants and
 * the non-log event log. A file path survives restarts; ":memory:" keeps the same code path
 * in-process. All writes are synchronous better-sqlite3 statements.
 */
import Database from "better-sqlite3";
import { rowInserter } from "../sqlite-insert.js";

export type BuildStateName = "pending" | "active" | "succeeded" | "failed" | "cancelled";

export interface BuildRow {
  build_id: string;
  tenant_id: string | null;
  priority_class: string;
  state: BuildStateName;
  keep_going: number;
  build_timeout: number;
  max_silent_time: number;
  build_cores: number;
  submitted_at: number;
  total: number;
  completed: number;
  cached: number;
  error_summary: string;
}

export interface NodeRow {
  build_id: string;
  drv_path: string;
  drv_hash: string;
  pname: string;
  system: string;
  output_names: string;
  output_paths: string;
  status: string;
  executor: string;
}

export interface TenantRow {
  tenant_id: string;
  tenant_name: string;
  gc_retention_hours: number;
  /** Up to 2^63-1, so read and written as bigint. */
  gc_max_store_bytes: bigint | null;
  cache_token: string | null;
  created_at: number;
}

interface StoredTenantRow extends Omit<TenantRow, "gc_retention_hours" | "created_at"> {
  gc_retention_hours: bigint;
  created_at: bigint;
}

const tenantFromRow = (r: StoredTenantRow | undefined): TenantRow | undefined =>
  r && { ...r, gc_retention_hours: Number(r.gc_retention_hours), created_at: Number(r.created_at) };

const schema = `
CREATE TABLE IF NOT EXISTS tenants (
  tenant_id TEXT PRIMARY KEY, tenant_name TEXT NOT NULL UNIQUE, gc_retention_hours INTEGER NOT NULL,
  gc_max_store_bytes INTEGER, cache_token TEXT UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS builds (
  build_id TEXT PRIMARY KEY, tenant_id TEXT, priority_class TEXT NOT NULL, state TEXT NOT NULL,
  keep_going INTEGER NOT NULL, build_timeout INTEGER NOT NULL, max_silent_time INTEGER NOT NULL, build_cores INTEGER NOT NULL DEFAULT 0,
  submitted_at INTEGER NOT NULL, total INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0,
  cached INTEGER NOT NULL DEFAULT 0, error_summary TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS builds_order ON builds (submitted_at DESC, build_id DESC);
CREATE TABLE IF NOT EXISTS build_nodes (
  build_id TEXT NOT NULL, drv_path TEXT NOT NULL, drv_hash TEXT NOT NULL, pname TEXT NOT NULL,
  system TEXT NOT NULL, output_names TEXT NOT NULL, output_paths TEXT NOT NULL,
  status TEXT NOT NULL, executor TEXT NOT NULL DEFAULT '', PRIMARY KEY (build_id, drv_path));
CREATE INDEX IF NOT EXISTS build_nodes_drv ON build_nodes (drv_path);
CREATE TABLE IF NOT EXISTS build_edges (
  build_id TEXT NOT NULL, parent TEXT NOT NULL, child TEXT NOT NULL, PRIMARY KEY (build_id, parent, child));
CREATE TABLE IF NOT EXISTS build_events (
  build_id TEXT NOT NULL, seq INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (build_id, seq));
`;

export type StateDb = ReturnType<typeof openStateDb>;

const insertEvents = rowInserter("build_events", ["build_id", "seq", "event"], "INSERT OR REPLACE");

export function openStateDb(path: string, onPersistError: (err: unknown) => void = () => {}) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(schema);

  const insertBuild = db.prepare(
    `INSERT INTO builds (build_id, tenant_id, priority_class, state, keep_going, build_timeout, max_silent_time, build_cores, submitted_at, total, completed, cached, error_summary)
     VALUES (@build_id, @tenant_id, @priority_class, @state, @keep_going, @build_timeout, @max_silent_time, @build_cores, @submitted_at, @total, @completed, @cached, @error_summary)`,
  );
  const insertNode = db.prepare(
    `INSERT OR IGNORE INTO build_nodes (build_id, drv_path, drv_hash, pname, system, output_names, output_paths, status, executor)
     VALUES (@build_id, @drv_path, @drv_hash, @pname, @system, @output_names, @output_paths, @status, @executor)`,
  );
  const insertEdge = db.prepare(`INSERT OR IGNORE INTO build_edges (build_id, parent, child) VALUES (?, ?, ?)`);
  const updateBuild = db.prepare(
    `UPDATE builds SET state = @state, total = @total, completed = @completed, cached = @cached, error_summary = @error_summary WHERE build_id = @build_id`,
  );
  const updateNode = db.prepare(`UPDATE build_nodes SET status = ?, executor = ? WHERE build_id = ? AND drv_path = ?`);

  // Like rio's event persister, events are written behind the live stream: queued, then one
  // transaction per turn of the event loop instead of one commit per event. Anything that reads
  // events or moves a build's state writes the queue first, so the rows never lag a state change.
  let queued: [string, number, Buffer][] = [];
  const writeQueued = db.transaction((rows: readonly [string, number, Buffer][]) => insertEvents(db, rows));
  const flushEvents = (): void => {
    if (queued.length === 0) return;
    const rows = queued;
    queued = [];
    writeQueued(rows);
  };
  const flushQuietly = (): void => {
    try {
      flushEvents();
    } catch (err) {
      onPersistError(err); // best effort, as in rio: a lost row is a replay gap, never a crash
    }
  };

  return {
    close: () => {
      flushQuietly();
      db.close();
    },
    /** Runs fn in one transaction (nested calls become savepoints): one commit for many rows. */
    batch: <T>(fn: () => T): T => db.transaction(fn)(),
    insertBuild: db.transaction((build: BuildRow, nodes: readonly NodeRow[], edges: readonly [string, string][]) => {
      insertBuild.run(build);
      for (const n of nodes) insertNode.run(n);
      for (const [p, c] of edges) insertEdge.run(build.build_id, p, c);
    }),
    updateBuild: (row: Pick<BuildRow, "build_id" | "state" | "total" | "completed" | "cached" | "error_summary">) => {
      flushQuietly();
      updateBuild.run(row);
    },
    updateNodeStatus: (buildId: string, drvPath: string, status: string, executor: string) => {
      updateNode.run(status, executor, buildId, drvPath);
    },
    appendEvent: (buildId: string, seq: number, bytes: Uint8Array) => {
      if (queued.length === 0) setImmediate(flushQuietly);
      queued.push([buildId, seq, Buffer.from(bytes)]);
    },
    /** Event rows of terminal builds whose cleanup never ran (the process stopped first). */
    sweepTerminalEvents: () => {
      flushQuietly();
      db.prepare(`DELETE FROM build_events WHERE build_id IN (SELECT build_id FROM builds WHERE state NOT IN ('pending', 'active'))`).run();
    },
    deleteEvents: (buildId: string) => {
      flushQuietly();
      db.prepare(`DELETE FROM build_events WHERE build_id = ?`).run(buildId);
    },
    loadEvents: (buildId: string) => {
      flushQuietly();
      return db.prepare(`SELECT seq, event FROM build_events WHERE build_id = ? ORDER BY seq`).all(buildId) as { seq: number; event: Buffer }[];
    },
    maxSequence: (buildId: string) => {
      flushQuietly();
      return (db.prepare(`SELECT MAX(seq) AS m FROM build_events WHERE build_id = ?`).get(buildId) as { m: number | null }).m ?? 0;
    },
    liveBuilds: () => db.prepare(`SELECT * FROM builds WHERE state IN ('pending', 'active') ORDER BY submitted_at`).all() as BuildRow[],
    getBuild: (id: string) => db.prepare(`SELECT * FROM builds WHERE build_id = ?`).get(id) as BuildRow | undefined,
    /** A build's nodes in submission order (recovery rebuilds the build from them). */
    nodesOf: (id: string) => db.prepare(`SELECT * FROM build_nodes WHERE build_id = ? ORDER BY rowid`).all(id) as NodeRow[],
    /** GetBuildGraph's node rows: ordered by derivation path and capped, as rio's load_build_graph. */
    graphNodesOf: (id: string, limit: number) =>
      db.prepare(`SELECT * FROM build_nodes WHERE build_id = ? ORDER BY drv_path LIMIT ?`).all(id, limit) as NodeRow[],
    countNodes: (id: string) => (db.prepare(`SELECT COUNT(*) AS c FROM build_nodes WHERE build_id = ?`).get(id) as { c: number }).c,
    edgesOf: (id: string) =>
      db.prepare(`SELECT parent, child FROM build_edges WHERE build_id = ?`).all(id) as { parent: string; child: string }[],
    listBuilds: (f: { state?: string; tenantId?: string; limit: number; offset: number; after?: { at: number; id: string } }) => {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: f.limit, offset: f.after ? 0 : f.offset };
      if (f.state) {
        where.push("state = @state");
        params.state = f.state;
      }
      if (f.tenantId) {
        where.push("tenant_id = @tenantId");
        params.tenantId = f.tenantId;
      }
      const filter = [...where];
      if (f.after) {
        where.push("(submitted_at < @at OR (submitted_at = @at AND build_id < @id))");
        params.at = f.after.at;
        params.id = f.after.id;
      }
      const clause = (w: string[]) => (w.length ? `WHERE ${w.join(" AND ")}` : "");
      const rows = db
        .prepare(`SELECT * FROM builds ${clause(where)} ORDER BY submitted_at DESC, build_id DESC LIMIT @limit OFFSET @offset`)
        .all(params) as BuildRow[];
      const { limit: _l, offset: _o, at: _a, id: _i, ...countParams } = params;
      const total = (db.prepare(`SELECT COUNT(*) AS c FROM builds ${clause(filter)}`).get(countParams) as { c: number }).c;
      return { rows, total };
    },
    insertTenant: (t: TenantRow) => {
      db.prepare(
        `INSERT INTO tenants (tenant_id, tenant_name, gc_retention_hours, gc_max_store_bytes, cache_token, created_at)
         VALUES (@tenant_id, @tenant_name, @gc_retention_hours, @gc_max_store_bytes, @cache_token, @created_at)`,
      ).run(t);
    },
    tenantByName: (name: string) =>
      tenantFromRow(db.prepare(`SELECT * FROM tenants WHERE tenant_name = ?`).safeIntegers(true).get(name) as StoredTenantRow | undefined),
    tenantByToken: (token: string) =>
      tenantFromRow(db.prepare(`SELECT * FROM tenants WHERE cache_token = ?`).safeIntegers(true).get(token) as StoredTenantRow | undefined),
    listTenants: () =>
      (db.prepare(`SELECT * FROM tenants ORDER BY created_at, tenant_name`).safeIntegers(true).all() as StoredTenantRow[]).map((r) => tenantFromRow(r)!),
  };
}
