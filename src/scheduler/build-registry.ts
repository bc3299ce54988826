/**
 * The builds held in memory and their event streams: sequence numbers from 1, the stored non-log
 * events that WatchBuild replays, the open watcher streams (which the orphan check counts), and
 * rio's re-sent terminal event for a late watcher. Knows nothing about Nix or derivations.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { BuildEventSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { resentTerminalEvent, type BuildState } from "./build-state.js";
import { createEventChannel, type EventChannel } from "./event-channel.js";
import type { StateDb } from "./state-db.js";
import type { PriorityClassName } from "./validate-submit.js";

export type EventBody = MessageInitShape<typeof BuildEventSchema>["event"];

export interface Watcher {
  readonly channel: EventChannel<BuildEvent>;
  /** Events up to this sequence came from the replay; a live copy of one is dropped (rio's watermark). */
  readonly replayedThrough: number;
}

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
  /** Changed only by the build lifecycle's setState. */
  readonly state: BuildState;
  seq: number;
  readonly events: BuildEvent[];
  readonly watchers: Set<Watcher>;
  /** When the last watcher left (undefined while someone watches). */
  zeroWatchersSince: number | undefined;
  readonly cached: number;
  /** nodes[0..doneCursor) were seen finished: completion checks stay linear over a whole build. */
  doneCursor: number;
}

export interface BuildRegistry {
  get(id: string): Build | undefined;
  values(): IterableIterator<Build>;
  readonly size: number;
  add(build: Build): void;
  delete(id: string): void;
  /** Numbers, stores (unless a log batch) and sends one event to every watcher of the build. */
  emit(build: Build, event: EventBody): BuildEvent;
  /**
   * A new stream on this build: a replay of stored events after `since`, then live ones. On a
   * finished build rio also re-sends the terminal event with the last sequence to every watcher
   * that did not just get it from a replay, so `since` = last sequence still sees the end.
   */
  attach(build: Build, since: number): EventChannel<BuildEvent>;
  /** Ends every open stream of the build with a clean EOF (cleanup, failover, fault knob). */
  detachAll(build: Build): void;
}

export function createBuildRegistry(db: StateDb): BuildRegistry {
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
    for (const w of build.watchers) w.channel.push(ev);
    return ev;
  }

  function attach(build: Build, since: number): EventChannel<BuildEvent> {
    const last = build.seq;
    const watcher: Watcher = {
      channel: createEventChannel<BuildEvent>(() => {
        build.watchers.delete(watcher);
        if (build.watchers.size === 0) build.zeroWatchersSince = Date.now();
      }),
      replayedThrough: since < last ? last : 0,
    };
    for (const ev of build.events) if (ev.sequence > BigInt(since)) watcher.channel.push(ev);
    build.watchers.add(watcher);
    build.zeroWatchersSince = undefined;
    const state = build.state;
    if (state.name !== "active") {
      const again = create(BuildEventSchema, { buildId: build.id, sequence: BigInt(last), timestamp: timestampNow(), event: resentTerminalEvent(state) });
      for (const w of build.watchers) if (last > w.replayedThrough) w.channel.push(again);
    }
    return watcher.channel;
  }

  return {
    get: (id) => builds.get(id),
    values: () => builds.values(),
    get size() {
      return builds.size;
    },
    add: (b) => void builds.set(b.id, b),
    delete: (id) => void builds.delete(id),
    emit,
    attach,
    detachAll(build) {
      for (const w of [...build.watchers]) w.channel.close();
    },
  };
}
