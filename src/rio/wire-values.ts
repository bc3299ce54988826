/** Scalar conversions shared by every mapper: uint64, Timestamp, log bytes and enums. */
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { BuildState as PbBuildState } from "../../generated/build_types_pb.js";
import { DerivationEventKind as PbKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import type { BuildState, DerivationEventKind } from "./types.js";

/** rio's uint64 values (sequences, line numbers, sizes) stay far below 2^53 in practice. */
export function toNumber(v: bigint): number {
  return Number(v);
}

export function toOptionalNumber(v: bigint | undefined): number | null {
  return v === undefined ? null : Number(v);
}

/** RFC 3339 UTC with milliseconds, or null when rio left the field unset. */
export function toRfc3339(ts: Timestamp | undefined): string | null {
  return ts === undefined ? null : new Date(timestampMs(ts)).toISOString();
}

// Non-fatal: invalid UTF-8 in build output becomes U+FFFD rather than an error.
const utf8 = new TextDecoder("utf-8", { fatal: false });

export function decodeLines(lines: readonly Uint8Array[]): string[] {
  return lines.map((l) => utf8.decode(l));
}

export function buildStateName(state: PbBuildState): BuildState {
  switch (state) {
    case PbBuildState.UNSPECIFIED:
      return "unspecified";
    case PbBuildState.PENDING:
      return "pending";
    case PbBuildState.ACTIVE:
      return "active";
    case PbBuildState.SUCCEEDED:
      return "succeeded";
    case PbBuildState.FAILED:
      return "failed";
    case PbBuildState.CANCELLED:
      return "cancelled";
    default:
      // A newer rio may add states; treat them as unknown rather than crash the stream.
      return "unspecified";
  }
}

export function derivationKindName(kind: PbKind): DerivationEventKind {
  switch (kind) {
    case PbKind.QUEUED:
      return "queued";
    case PbKind.STARTED:
      return "started";
    case PbKind.COMPLETED:
      return "completed";
    case PbKind.CACHED:
      return "cached";
    case PbKind.FAILED:
      return "failed";
    case PbKind.SUBSTITUTING:
      return "substituting";
    default:
      return "queued";
  }
}

/** "permanent_failure" etc.; "" for UNSPECIFIED; "unknown_<n>" for values newer than our proto. */
export function resultStatusName(status: BuildResultStatus): string {
  if (status === BuildResultStatus.UNSPECIFIED) return "";
  const name = BuildResultStatus[status] as string | undefined;
  return name === undefined ? `unknown_${status}` : name.toLowerCase();
}
