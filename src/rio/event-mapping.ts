/** BuildEvent (wire) → RioEvent (domain). */
import type { BuildEvent } from "../../generated/build_types_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { decodeLines, derivationKindName, resultStatusName, toNumber, toOptionalNumber, toRfc3339 } from "./wire-values.js";
import type { RioEvent } from "./types.js";

/**
 * Maps one wire event. Returns null for an event whose oneof is unset (a newer rio's event type
 * we do not know): the caller still advances its sequence past it but has nothing to deliver.
 */
export function toRioEvent(ev: BuildEvent): RioEvent | null {
  // Plain fields rather than a spread base object: this runs once per event on the hot path.
  const buildId = ev.buildId;
  const sequence = toNumber(ev.sequence);
  const at = eventTime(ev.timestamp);
  const e = ev.event;
  switch (e.case) {
    case "started":
      return {
        buildId,
        sequence,
        at,
        type: "started",
        totalDerivations: e.value.totalDerivations,
        cachedDerivations: e.value.cachedDerivations,
      };
    case "inputsResolved":
      return { buildId, sequence, at, type: "inputs_resolved" };
    case "progress":
      return {
        buildId,
        sequence,
        at,
        type: "progress",
        completed: e.value.completed,
        running: e.value.running,
        queued: e.value.queued,
        total: e.value.total,
        criticalPathRemainingSecs: toOptionalNumber(e.value.criticalPathRemainingSecs),
        assignedExecutors: e.value.assignedExecutors,
      };
    case "log":
      return {
        buildId,
        sequence,
        at,
        type: "log",
        derivation: e.value.derivationPath,
        firstLineNumber: toNumber(e.value.firstLineNumber),
        lines: decodeLines(e.value.lines),
        executorId: e.value.executorId,
      };
    case "derivation":
      return {
        buildId,
        sequence,
        at,
        type: "derivation",
        derivation: e.value.derivationPath,
        kind: derivationKindName(e.value.kind),
        executorId: e.value.executorId,
        outputPaths: e.value.outputPaths,
        errorMessage: e.value.errorMessage,
        failureStatus: resultStatusName(e.value.failureStatus),
      };
    case "phase":
      return { buildId, sequence, at, type: "phase", derivation: e.value.derivationPath, phase: e.value.phase };
    case "completed":
      return { buildId, sequence, at, type: "completed", outputPaths: e.value.outputPaths };
    case "failed":
      return {
        buildId,
        sequence,
        at,
        type: "failed",
        errorMessage: e.value.errorMessage,
        failedDerivation: e.value.failedDerivation,
      };
    case "cancelled":
      return { buildId, sequence, at, type: "cancelled", reason: e.value.reason };
    case undefined:
      return null;
    default: {
      const unreachable: never = e;
      return unreachable;
    }
  }
}

// Events come in bursts with the same millisecond stamp; formatting it once per stamp saves a
// Date allocation and toISOString per event.
let lastSeconds = -1n;
let lastMillis = -1;
let lastText = "";

function eventTime(ts: Timestamp | undefined): string {
  if (ts === undefined) return "";
  const millis = Math.floor(ts.nanos / 1_000_000);
  if (ts.seconds !== lastSeconds || millis !== lastMillis) {
    lastSeconds = ts.seconds;
    lastMillis = millis;
    lastText = toRfc3339(ts) ?? "";
  }
  return lastText;
}
