import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { BuildEventSchema } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import { toRioEvent } from "./event-mapping.js";

const at = Date.UTC(2026, 10, 27, 12, 0, 0, 250);

describe("toRioEvent", () => {
  it("maps a log batch: uint64 to number, invalid UTF-8 to U+FFFD, RFC 3339 time", () => {
    const ev = create(BuildEventSchema, {
      buildId: "b1",
      sequence: 7n,
      timestamp: timestampFromMs(at),
      event: {
        case: "log",
        value: {
          derivationPath: "/nix/store/x.drv",
          lines: [new TextEncoder().encode("héllo"), new Uint8Array([0x61, 0xff, 0x62])],
          firstLineNumber: 9_007_199_254n,
          executorId: "local",
        },
      },
    });
    expect(toRioEvent(ev)).toEqual({
      buildId: "b1",
      sequence: 7,
      at: "2026-11-27T12:00:00.250Z",
      type: "log",
      derivation: "/nix/store/x.drv",
      firstLineNumber: 9_007_199_254,
      lines: ["héllo", "a\uFFFDb"],
      executorId: "local",
    });
  });

  it("maps derivation kinds and failure statuses to lowercase names", () => {
    const ev = create(BuildEventSchema, {
      sequence: 3n,
      event: {
        case: "derivation",
        value: {
          derivationPath: "/nix/store/y.drv",
          kind: DerivationEventKind.FAILED,
          errorMessage: "builder failed",
          failureStatus: BuildResultStatus.PERMANENT_FAILURE,
        },
      },
    });
    const r = toRioEvent(ev);
    expect(r).toMatchObject({ type: "derivation", kind: "failed", failureStatus: "permanent_failure", at: "" });
  });

  it("maps terminal events and optional fields", () => {
    const failed = toRioEvent(
      create(BuildEventSchema, { sequence: 4n, event: { case: "failed", value: { errorMessage: "e", failedDerivation: "/d" } } }),
    );
    expect(failed).toMatchObject({ type: "failed", errorMessage: "e", failedDerivation: "/d", sequence: 4 });
    const progress = toRioEvent(create(BuildEventSchema, { event: { case: "progress", value: { total: 2 } } }));
    expect(progress).toMatchObject({ type: "progress", total: 2, criticalPathRemainingSecs: null });
    const progress2 = toRioEvent(
      create(BuildEventSchema, { event: { case: "progress", value: { criticalPathRemainingSecs: 0n } } }),
    );
    expect(progress2).toMatchObject({ criticalPathRemainingSecs: 0 });
    expect(toRioEvent(create(BuildEventSchema, { event: { case: "inputsResolved", value: {} } }))?.type).toBe(
      "inputs_resolved",
    );
  });

  it("returns null for an unset oneof (a newer event type)", () => {
    expect(toRioEvent(create(BuildEventSchema, { sequence: 5n }))).toBeNull();
  });
});
