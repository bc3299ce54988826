/**
 * The rio client's transport (@grpc/grpc-js driven directly, src/rio/grpc-channel.ts and
 * stream-call.ts) against a peer scripted at the HTTP/2 level, for the wire cases the local
 * scheduler never produces: a stream cut in the middle of a message, a peer that never sends
 * headers, tonic's Trailers-Only refusals, messages over grpc-js's 4 MiB default, an abort while
 * the consumer holds the stream, and the tenant token on every call.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { GetBuildGraphResponseSchema } from "../../generated/dag_pb.js";
import { BuildEventSchema, WatchBuildRequestSchema } from "../../generated/build_types_pb.js";
import type { BuildDag } from "../../src/core/dag.js";
import { AppError } from "../../src/errors.js";
import { createRioClient, type ReattachInfo, type RioClient, type RioClientOptions, type RioEvent, type SubmitRetryInfo } from "../../src/rio/index.js";
import { finish, grpcFrame, respond, startRawPeer, trailersOnly, type RawCall, type RawPeer } from "./raw-grpc-peer.js";

const drv = "/nix/store/00000000000000000000000000000000-x.drv";
const dag: BuildDag = {
  roots: [drv],
  nodes: [
    {
      drvPath: drv,
      pname: "x",
      system: "x86_64-linux",
      requiredFeatures: [],
      outputNames: ["out"],
      expectedOutputPaths: ["/nix/store/00000000000000000000000000000000-x"],
      isFixedOutput: false,
      isContentAddressed: false,
      needsResolve: false,
    },
  ],
  edges: [],
};

const logEvent = (seq: number, lines: string[]) =>
  toBinary(
    BuildEventSchema,
    create(BuildEventSchema, {
      buildId: "b-1",
      sequence: BigInt(seq),
      event: { case: "log", value: { derivationPath: drv, lines: lines.map((l) => Buffer.from(l)), firstLineNumber: 0n, executorId: "e" } },
    }),
  );
const completedEvent = (seq: number) =>
  toBinary(
    BuildEventSchema,
    create(BuildEventSchema, { buildId: "b-1", sequence: BigInt(seq), event: { case: "completed", value: { outputPaths: ["/o"] } } }),
  );

const sinceOf = (call: RawCall) => Number(fromBinary(WatchBuildRequestSchema, call.request).sinceSequence);
const callsTo = (peer: RawPeer, rpc: string) => peer.calls.filter((c) => c.path.endsWith(`/${rpc}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let peer: RawPeer | undefined;
let rio: RioClient | undefined;
const reattaches: ReattachInfo[] = [];
const submitRetries: SubmitRetryInfo[] = [];

function clientOf(p: RawPeer, options: Partial<RioClientOptions> = {}): RioClient {
  reattaches.length = 0;
  submitRetries.length = 0;
  rio = createRioClient({
    url: p.url,
    headerTimeoutMs: 5_000,
    unaryTimeoutMs: 5_000,
    reattach: { delaysMs: [20], maxAttempts: 5 },
    submitRetry: { delaysMs: [20], maxAttempts: 5 },
    hooks: { onReattach: (i) => void reattaches.push(i), onSubmitRetry: (i) => void submitRetries.push(i) },
    ...options,
  });
  return rio;
}

afterEach(async () => {
  rio?.close();
  rio = undefined;
  await peer?.close();
  peer = undefined;
});

describe("rio client transport on the wire", () => {
  it.each(["reset", "clean end"] as const)(
    "a stream cut in the middle of a message (%s): whole events once, the partial one never, re-attach from the last whole one",
    async (cut) => {
      peer = await startRawPeer((call) => {
        if (!call.path.endsWith("/WatchBuild")) return;
        const n = callsTo(peer!, "WatchBuild").length;
        respond(call.stream);
        if (n === 1) {
          const second = grpcFrame(logEvent(2, ["two"]));
          call.stream.write(grpcFrame(logEvent(1, ["one"])));
          call.stream.write(second.subarray(0, 9));
          setTimeout(() => (cut === "reset" ? call.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR) : finish(call.stream)), 50);
        } else {
          call.stream.write(grpcFrame(logEvent(2, ["two"])));
          call.stream.write(grpcFrame(completedEvent(3)));
        }
      });
      const client = clientOf(peer, { tenantToken: "tenant-jwt" });
      const got: RioEvent[] = [];
      const outcome = await client.follow("b-1", { onEvent: (e) => void got.push(e) });
      expect(outcome).toMatchObject({ type: "terminal", lastSequence: 3, event: { type: "completed" } });
      expect(got.map((e) => [e.sequence, e.type === "log" ? e.lines : e.type])).toEqual([
        [1, ["one"]],
        [2, ["two"]],
        [3, "completed"],
      ]);
      expect(callsTo(peer, "WatchBuild").map(sinceOf)).toEqual([0, 1]);
      expect(reattaches).toHaveLength(1);
      expect(reattaches[0]?.lastSequence).toBe(1);
      expect(peer.calls.every((c) => c.headers["x-rio-tenant-token"] === "tenant-jwt")).toBe(true);
    },
  );

  it("a peer that never sends headers: submit times out without resubmitting, follow re-attaches, unary calls hit their deadline", async () => {
    peer = await startRawPeer((call) => {
      // SubmitBuild and QueryBuildStatus are never answered; the second WatchBuild is.
      if (call.path.endsWith("/WatchBuild") && callsTo(peer!, "WatchBuild").length > 1) {
        respond(call.stream);
        call.stream.write(grpcFrame(completedEvent(5)));
      }
    });
    const client = clientOf(peer, { headerTimeoutMs: 300, unaryTimeoutMs: 300 });

    const t0 = Date.now();
    const err = await client.submit({ dag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(3_000);
    await sleep(300);
    const submits = callsTo(peer, "SubmitBuild");
    expect(submits).toHaveLength(1); // the merge may have gone through: never resubmitted
    expect(submitRetries).toHaveLength(0);
    expect(await submits[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);

    const outcome = await client.follow("b-1", { since: 4, onEvent: () => {} });
    expect(outcome).toMatchObject({ type: "terminal", lastSequence: 5 });
    expect(reattaches.map((r) => r.reason)).toEqual(["timeout"]);

    await expect(client.query("b-1")).rejects.toMatchObject({ code: "timeout" });
  });

  it("a Trailers-Only refusal (tonic's way): UNAVAILABLE is resubmitted, INVALID_ARGUMENT is not; the build id comes from the headers", async () => {
    let refuseWith = 14;
    peer = await startRawPeer((call) => {
      if (!call.path.endsWith("/SubmitBuild")) return;
      if (callsTo(peer!, "SubmitBuild").length === 1) {
        trailersOnly(call.stream, refuseWith, "not the leader");
        return;
      }
      respond(call.stream, { "x-rio-build-id": "b-1" });
      call.stream.write(grpcFrame(completedEvent(1)));
    });
    const client = clientOf(peer);
    const build = await client.submit({ dag });
    expect(build.buildId).toBe("b-1");
    expect(submitRetries.map((r) => r.code)).toEqual(["unavailable"]);
    expect(await build.follow({ onEvent: () => {} })).toMatchObject({ type: "terminal", lastSequence: 1 });

    peer.calls.length = 0;
    refuseWith = 3;
    await expect(client.submit({ dag })).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining("not the leader") });
    expect(callsTo(peer, "SubmitBuild")).toHaveLength(1);
  });

  it("messages over grpc-js's 4 MiB default arrive whole, on a stream and in a unary answer", async () => {
    const line = "x".repeat(1023);
    const lines = Array.from({ length: 6 * 1024 }, (_, i) => `${i}:${line}`); // ≈ 6 MiB in one event
    const nodes = Array.from({ length: 20_000 }, (_, i) => ({ drvPath: `/nix/store/${String(i).padStart(300, "0")}.drv`, pname: "p", system: "s", status: "completed" }));
    peer = await startRawPeer((call) => {
      respond(call.stream);
      if (call.path.endsWith("/WatchBuild")) {
        call.stream.write(grpcFrame(logEvent(1, lines)));
        call.stream.write(grpcFrame(completedEvent(2)));
      } else if (call.path.endsWith("/GetBuildGraph")) {
        call.stream.write(grpcFrame(toBinary(GetBuildGraphResponseSchema, create(GetBuildGraphResponseSchema, { nodes, totalNodes: nodes.length }))));
        finish(call.stream);
      }
    });
    const client = clientOf(peer);
    const got: RioEvent[] = [];
    const outcome = await client.follow("b-1", { onEvent: (e) => void got.push(e) });
    expect(outcome.type).toBe("terminal");
    expect(reattaches).toHaveLength(0);
    const log = got[0];
    expect(log?.type === "log" && log.lines.length).toBe(lines.length);
    expect(log?.type === "log" && log.lines.at(-1)).toBe(lines.at(-1));
    const graph = await client.buildGraph("b-1");
    expect(graph.nodes).toHaveLength(nodes.length);
    expect(graph.nodes.at(-1)?.drvPath).toBe(nodes.at(-1)?.drvPath);
  });

  it("an abort while the consumer holds the stream: nothing more is delivered, follow settles after onEvent, the call is cancelled", async () => {
    peer = await startRawPeer((call) => {
      if (!call.path.endsWith("/WatchBuild")) return;
      respond(call.stream);
      // ≈ 2 MiB queued at once, far past the HTTP/2 window: only reads let it through.
      for (let seq = 1; seq <= 2000; seq++) call.stream.write(grpcFrame(logEvent(seq, ["y".repeat(1000)])));
    });
    const client = clientOf(peer);
    const ctrl = new AbortController();
    let delivered = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let settled = false;
    const following = client
      .follow("b-1", {
        signal: ctrl.signal,
        onEvent: () => {
          delivered += 1;
          if (delivered === 1) return held;
        },
      })
      .finally(() => void (settled = true));
    while (delivered === 0) await sleep(10);
    ctrl.abort();
    await sleep(200);
    expect(settled).toBe(false); // onEvent's promise is still pending
    expect(delivered).toBe(1);
    release();
    expect(await following).toEqual({ type: "aborted", lastSequence: 1 });
    expect(delivered).toBe(1);
    expect(await callsTo(peer, "WatchBuild")[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(callsTo(peer, "WatchBuild")).toHaveLength(1);
  });

  it("close() cancels the open calls; calls after it fail unavailable without reaching the peer", async () => {
    peer = await startRawPeer((call) => {
      respond(call.stream);
      if (call.path.endsWith("/WatchBuild")) call.stream.write(grpcFrame(logEvent(1, ["one"])));
    });
    const client = clientOf(peer);
    const got: RioEvent[] = [];
    const following = client.follow("b-1", { onEvent: (e) => void got.push(e) }).catch((e: unknown) => e);
    while (got.length === 0) await sleep(10);
    client.close();
    expect(await callsTo(peer, "WatchBuild")[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(await following).toMatchObject({ name: "AppError", code: "unavailable" });
    await expect(client.query("b-1")).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("closed") });
    expect(callsTo(peer, "WatchBuild")).toHaveLength(1);
    expect(callsTo(peer, "QueryBuildStatus")).toHaveLength(0);
  });
});
