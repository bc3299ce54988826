/**
 * What every store operation works with: the connection, a prepared-statement cache, the clock, the
 * id generator, the limits, and `write`, which runs an operation in one IMMEDIATE transaction and
 * tells the commit listeners what it wrote only after the commit succeeded.
 */
import type { Database, Statement } from "better-sqlite3";
import type { CommitListener, CommittedBatch, CommittedLogs, Limits, LogLine, LogSource, StoredEvent } from "../core/index.js";
import { AppError } from "../errors.js";

export type { LogLine, LogSource };

/** The store's names for core's commit shapes (see core/commits.ts). */
export type LogBatch = CommittedLogs;
export type CommitBatch = CommittedBatch;
export type { CommitListener };

/** Collects what a transaction writes; handed to listeners after commit. */
export interface WriteLog {
  readonly events: StoredEvent[];
  readonly logs: LogBatch[];
}

export interface StoreContext {
  readonly db: Database;
  readonly limits: Limits;
  /** The current time, RFC 3339 UTC with milliseconds. */
  readonly now: () => string;
  readonly newSyncId: () => string;
  /** A cached prepared statement for `sql`. */
  stmt(sql: string): Statement;
  /** Runs `fn` in one IMMEDIATE transaction; after commit, listeners receive what it wrote. Not reentrant. */
  write<T>(fn: (log: WriteLog) => T): T;
  /** Registers a listener called after every commit that wrote events or log lines. */
  onCommit(listener: CommitListener): () => void;
}

export interface ContextOptions {
  readonly db: Database;
  readonly limits: Limits;
  readonly clock: () => Date;
  readonly newSyncId: () => string;
  /** Where a throwing commit listener's error goes (the write itself has committed). */
  readonly onListenerError: (err: unknown) => void;
}

export function createContext(options: ContextOptions): StoreContext {
  const { db } = options;
  const statements = new Map<string, Statement>();
  const listeners = new Set<CommitListener>();
  // One transaction wrapper for every write (creating one per call costs more than a small commit).
  const inTransaction = db.transaction(<T>(fn: () => T): T => fn());
  return {
    db,
    limits: options.limits,
    now: () => options.clock().toISOString(),
    newSyncId: options.newSyncId,
    stmt(sql) {
      let s = statements.get(sql);
      if (!s) {
        s = db.prepare(sql);
        statements.set(sql, s);
      }
      return s;
    },
    write<T>(fn: (log: WriteLog) => T): T {
      if (db.inTransaction) throw new AppError("internal", "store writes do not nest");
      const log: WriteLog = { events: [], logs: [] };
      let result: T;
      try {
        result = inTransaction.immediate(() => fn(log)) as T;
      } catch (err) {
        throw storeError(err);
      }
      if (log.events.length > 0 || log.logs.length > 0) {
        for (const listener of listeners) {
          try {
            listener(log);
          } catch (err) {
            options.onListenerError(err);
          }
        }
      }
      return result;
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** SQLite failures as AppErrors: constraint violations are conflicts; a busy, full or read-only database is unavailable. */
export function storeError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT")) {
    return new AppError("conflict", `refused by the database: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new AppError("unavailable", "the store is busy, retry", undefined, { cause: err });
  }
  // The disk is full, read-only or failing: nothing was written (the transaction rolled back),
  // and the same request succeeds once the operator fixes the disk.
  if (code === "SQLITE_FULL" || (typeof code === "string" && /^SQLITE_(READONLY|IOERR|CANTOPEN)/.test(code))) {
    return new AppError("unavailable", `the store cannot write (${code}); retry later`, undefined, { cause: err });
  }
  return AppError.from(err);
}
