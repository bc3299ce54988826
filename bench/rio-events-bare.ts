/**
 * The yardstick for bench/rio-events.ts: a bare @grpc/grpc-js reader of the same stream, with
 * none of src/rio. Same peer (bench/rio-events-peer.ts in a child process), same holder build,
 * same N injected log events, same CPU window (process.cpuUsage from the first injected event
 * to the last). The reader opens SubmitBuild with grpc-js's stock client, decodes each message
 * with the generated protobuf-es schema (fromBinary) and counts the injected events on 'data'.
 * With `map` it also turns each event into the domain event (src/rio/event-mapping.ts), which
 * the rio client does too; without it the figure is transport + decode only.
 *
 * Run: npx tsx bench/rio-events-bare.ts [events=200000] [map]
 */
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { fork } from "node:child_process";
import { once } from "node:events";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { BuildEventSchema, SubmitBuildRequestSchema, type BuildEvent, type SubmitBuildRequest } from "../generated/build_types_pb.js";
import { DerivationEventKind } from "../generated/dag_pb.js";
import { SchedulerService } from "../generated/scheduler_pb.js";
import { nixConfigText } from "../src/nix-env.js";
import { toRioEvent } from "../src/rio/event-mapping.js";
import { toSubmitBuildRequest } from "../src/rio/message-mapping.js";
import { instantiateFixture } from "../test/rio/nix-fixture.js";

process.env.NIX_CONFIG = nixConfigText();
const total = Number(process.argv[2] ?? 200_000);
const mapEvents = process.argv[3] === "map";

async function main(): Promise<void> {
  const peer = fork(fileURLToPath(new URL("./rio-events-peer.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"] });
  const [ready] = (await once(peer, "message")) as [{ url: string }];
  const client = new grpc.Client(new URL(ready.url).host, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
  });
  const fx = await instantiateFixture([{ name: "bench-holder", script: "sleep 120; echo x > $out" }]);
  const path = `/${SchedulerService.typeName}/${SchedulerService.method.submitBuild.name}`;
  const stream = client.makeServerStreamRequest<SubmitBuildRequest, BuildEvent>(
    path,
    (m) => Buffer.from(toBinary(SubmitBuildRequestSchema, m)),
    (b) => fromBinary(BuildEventSchema, b),
    toSubmitBuildRequest({ dag: fx.dag }),
    new grpc.Metadata(),
    {},
  );
  const [header] = (await once(stream, "metadata")) as [grpc.Metadata];
  const buildId = String(header.get("x-rio-build-id")[0] ?? "");

  let received = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuSpent: NodeJS.CpuUsage = { user: 0, system: 0 };
  let injecting = false;
  let mapped = 0;
  const finished = new Promise<void>((resolve) => {
    stream.on("data", (ev: BuildEvent) => {
      if (mapEvents && toRioEvent(ev) !== null) mapped += 1;
      const e = ev.event;
      if (e.case === "log" && e.value.executorId === "bench") {
        if (received === 0) cpuAtFirst = process.cpuUsage();
        received += 1;
        if (received === total) {
          cpuSpent = process.cpuUsage(cpuAtFirst);
          resolve();
        }
      } else if (e.case === "derivation" && e.value.kind === DerivationEventKind.STARTED && !injecting) {
        // The holder runs: the build stays live while the events go in.
        injecting = true;
        peer.send({ inject: true, buildId, count: total });
      }
    });
  });
  stream.on("error", () => {}); // the cancel below ends the call with CANCELLED
  await finished;
  stream.cancel(); // the peer exits below, and with it the holder build
  client.close();
  peer.send({ close: true });
  await once(peer, "exit");

  const cpuPerEventUs = (cpuSpent.user + cpuSpent.system) / received;
  console.log(`events:                 ${received}${mapEvents ? ` (mapped ${mapped})` : ""}`);
  console.log(
    `bare grpc-js CPU per event: ${cpuPerEventUs.toFixed(2)} µs (${mapEvents ? "transport + decode + mapping" : "transport + decode"}; load ${loadavg()[0]!.toFixed(2)})`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
