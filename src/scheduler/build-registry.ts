/**
 * Per-build state and its event stream: sequence numbers from 1, the stored non-log events that
 * WatchBuild replays, the open watcher streams (which the orphan check counts) and the 250 ms
 * progress debounce. Knows nothing about Nix.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { BuildEventSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { createEventChannel, type EventChannel } from "./event-channel.js";
import type { PriorityClassName } from "./validate-submit.js";
import type { BuildStateName, StateDb } from "./state-db.js";

export type EventBody = MessageInitShape<typeof BuildEventSchema>["event"];

export interface Build {
  readonly id: string;
  readonly tenantId: string | null;
  readonly priorityClass: PriorityClassName;
  readonly keepGoing: boolean;
  readonly buildTimeout: number;
  readonly maxSilentTime: number;
  readonly buildCores: number;
  readonly submittedAt: number;
  readonly nodes: readonly string[];
  readonly roots: readonly string[];
  state: BuildStateName;
  seq: number;
  readonly events: BuildEvent[];
  readonly watchers: Set<EventChannel<BuildEvent>>;
  /** When the last watcher left (undefined while someone watches). */
  zeroWatchersSince: number | undefined;
  cached: number;
  errorSummary: string;
  /** nodes[0..doneCursor) were seen finished: completion checks stay linear over a whole build. */
  doneCursor: number;
  progressTimer?: NodeJS.Timeout;
  lastProgressAt: number;
  timeoutTimer?: NodeJS.Timeout;
  cleanupTimer?: NodeJS.Timeout;
}

export function isTerminal(state: BuildStateName): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

export function createBuildRegistry(db: StateDb) {
  const builds = new Map<string, Build>();

  function emit(build: Build, event: EventBody): BuildEvent {
    build.seq += 1;
    const ev = create(BuildEventSchema, {
      buildId: build.id,
      sequence: BigInt(build.seq),
      timestamp: timestampNow(),
      event,
    });
    // Log batches are live only, as in rio: never stored, never replayed.
    if (ev.event.case !== "log") {
      build.events.push(ev);
      db.appendEvent(build.id, build.seq, toBinary(BuildEventSchema, ev));
    }
    for (const w of build.watchers) w.push(ev);
    return ev;
  }

  /** A new stream on this build: replay of stored events after `since`, then live ones. */
  function attach(build: Build, since: number): EventChannel<BuildEvent> {
    const channel = createEventChannel<BuildEvent>(() => {
      build.watchers.delete(channel);
      if (build.watchers.size === 0) build.zeroWatchersSince = Date.now();
    });
    for (const ev of build.events) if (ev.sequence > BigInt(since)) channel.push(ev);
    build.watchers.add(channel);
    build.zeroWatchersSince = undefined;
    return channel;
  }

  /** Ends every open stream of the build with a clean EOF (cleanup, failover, fault knob). */
  function detachAll(build: Build): void {
    for (const w of [...build.watchers]) w.close();
  }

  return { builds, emit, attach, detachAll };
}

export type BuildRegistry = ReturnType<typeof createBuildRegistry>;
