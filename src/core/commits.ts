/**
 * What one committed store transaction wrote, in order: the events it stored and the log lines it
 * appended. The store hands it to its commit listeners (the API publishes it; log followers read it).
 */
import type { StoredEvent } from "./events.js";
import type { LogLine } from "./views.js";

/** Log lines appended to one sync, as published on `fediversity.logs.<tenant>.<deployment>`. */
export interface CommittedLogs {
  readonly tenant: string;
  readonly deployment: string;
  readonly sync: string;
  readonly lines: readonly LogLine[];
}

export interface CommittedBatch {
  readonly events: readonly StoredEvent[];
  readonly logs: readonly CommittedLogs[];
}

/** Called synchronously after each commit that stored events or log lines, in commit order. */
export type CommitListener = (batch: CommittedBatch) => void;
