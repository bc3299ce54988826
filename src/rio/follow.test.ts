/**
 * followBuild's sequence rules on hand-made wire events; the network paths (including the
 * terminal event rio re-sends with sequence == since) are covered in test/rio/.
 */
import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { BuildEventSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { AppError } from "../errors.js";
import { followBuild } from "./follow.js";
import { stopReading, type OpenStream } from "./stream-call.js";
import type { RioEvent } from "./types.js";

const phase = (seq: number) =>
  create(BuildEventSchema, { buildId: "b", sequence: BigInt(seq), event: { case: "phase", value: { phase: `p${seq}` } } });
const completed = (seq: number) =>
  create(BuildEventSchema, { buildId: "b", sequence: BigInt(seq), event: { case: "completed", value: { outputPaths: ["/o"] } } });

function streamOf(events: BuildEvent[], end?: AppError): OpenStream<BuildEvent> {
  return {
    header: () => undefined,
    async consume(onMessage) {
      for (const e of events) if ((await onMessage(e)) === stopReading) return;
      if (end) throw end;
    },
    abort: () => {},
  };
}

function run(streams: (OpenStream<BuildEvent> | AppError)[], since = 0) {
  const got: RioEvent[] = [];
  const sinces: number[] = [];
  const outcome = followBuild(
    {
      buildId: "b",
      watch: async (s) => {
        sinces.push(s);
        const next = streams.shift();
        if (next === undefined || next instanceof AppError) throw next ?? new AppError("unavailable", "no more");
        return next;
      },
      policy: { delaysMs: [1], maxAttempts: 3 },
      logger: pino({ level: "silent" }),
      hooks: {},
    },
    { since, onEvent: (e) => void got.push(e) },
  );
  return { got, sinces, outcome };
}

describe("followBuild", () => {
  it("drops duplicates on re-attach, tolerates gaps, and re-attaches from the last sequence", async () => {
    const { got, sinces, outcome } = run([
      streamOf([phase(1), phase(2), phase(4)]),
      streamOf([phase(3), phase(4), phase(5)], new AppError("internal", "reset")),
      streamOf([phase(5), completed(7)]),
    ]);
    const o = await outcome;
    expect(o).toMatchObject({ type: "terminal", lastSequence: 7 });
    expect(got.map((e) => e.sequence)).toEqual([1, 2, 4, 5, 7]);
    expect(sinces).toEqual([0, 4, 5]);
  });

  it("delivers a terminal event whose sequence equals since (rio's synthetic re-broadcast)", async () => {
    const { got, outcome } = run([streamOf([completed(9)])], 9);
    expect((await outcome).type).toBe("terminal");
    expect(got.map((e) => e.type)).toEqual(["completed"]);
  });

  it("turns NOT_FOUND into gone and too many failures into AppError unavailable", async () => {
    expect(await run([streamOf([phase(1)]), new AppError("not_found", "gone")]).outcome).toEqual({
      type: "gone",
      lastSequence: 1,
    });
    const failing = run([streamOf([phase(1)])]).outcome;
    await expect(failing).rejects.toMatchObject({ code: "unavailable" });
  });

  it("propagates invalid_argument without retrying", async () => {
    await expect(run([new AppError("invalid_argument", "bad uuid")]).outcome).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });
});

describe("followBuild retry budget", () => {
  it("does not reset the budget on replayed duplicates, so a stuck replay ends in unavailable", async () => {
    const stuck = () => streamOf([phase(1), phase(2)]);
    const { outcome, sinces } = run([stuck(), stuck(), stuck(), stuck(), stuck(), stuck()]);
    await expect(outcome).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("last: eof") });
    expect(sinces).toEqual([0, 2, 2, 2]); // first try + maxAttempts (3) re-attaches

  });
});
