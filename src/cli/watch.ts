/**
 * `watch <deployment>`: subscribe to the deployment's events and logs, replay
 * `deployment.events(since)` from the last seen seq, drop duplicates by seq, apply events strictly
 * in order (fetching any gap), render, and return when the watched sync is terminal.
 */
import { eventsTopic, logsTopic, procedureUris } from "../api/uris.js";
import type { DeploymentEvent, DeploymentView, EventsResult, LogBatch } from "../core/index.js";
import type { Client } from "./client.js";
import type { CliIo } from "./io.js";
import {
  describeEvent,
  exitCodeOf,
  fitWidth,
  initialWatchState,
  isFinished,
  reduceEvent,
  reduceLogs,
  render,
  seedFromView,
  type WatchState,
} from "./watch-state.js";

export interface WatchOptions {
  readonly tenant: string | undefined;
  readonly deployment: string;
  readonly sync: string | null;
  readonly json: boolean;
}

function isEvent(value: unknown): value is DeploymentEvent {
  return typeof value === "object" && value !== null && typeof (value as { seq?: unknown }).seq === "number";
}

export async function watch(client: Client, io: CliIo, opts: WatchOptions): Promise<number> {
  const tenantKw = opts.tenant !== undefined ? { tenant: opts.tenant } : {};
  const tty = !opts.json && io.stdout.isTTY === true;
  let state: WatchState = initialWatchState(opts.tenant ?? "", opts.deployment, opts.sync);
  let seeded = false;
  const pending = new Map<number, DeploymentEvent>();
  let drawn = 0;
  let redrawTimer: NodeJS.Timeout | null = null;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const draw = () => {
    redrawTimer = null;
    const lines = fitWidth(render(state, Date.now()), io.stdout.columns);
    const clear = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : "";
    io.stdout.write(clear + lines.join("\n") + "\n");
    drawn = lines.length;
  };
  const scheduleDraw = () => {
    if (tty && redrawTimer === null) redrawTimer = setTimeout(draw, 100);
  };

  const apply = (event: DeploymentEvent) => {
    state = reduceEvent(state, event);
    if (opts.json) io.stdout.write(JSON.stringify(event) + "\n");
    else if (!tty) {
      const line = describeEvent(state, event);
      if (line !== null) io.stdout.write(line + "\n");
    }
  };

  const checkFinished = () => {
    scheduleDraw();
    if (isFinished(state)) finish(exitCodeOf(state));
  };

  // Drains buffered events in seq order; returns true when a gap remains.
  const drain = (): boolean => {
    for (;;) {
      const next = pending.get(state.lastSeq + 1);
      if (!next) break;
      pending.delete(next.seq);
      apply(next);
    }
    for (const seq of pending.keys()) if (seq <= state.lastSeq) pending.delete(seq);
    return pending.size > 0;
  };

  let replaying: Promise<void> | null = null;
  const replay = (): Promise<void> => {
    replaying ??= (async () => {
      try {
        for (;;) {
          const page = await client.call<EventsResult>(procedureUris.events, {
            deployment: opts.deployment,
            since: state.lastSeq,
            ...tenantKw,
          });
          for (const event of page.events) if (event.seq > state.lastSeq) pending.set(event.seq, event);
          drain();
          if (!page.more || page.events.length === 0) break;
        }
      } finally {
        replaying = null;
      }
      checkFinished();
    })();
    return replaying;
  };

  const onEvent = (payload: unknown) => {
    if (!isEvent(payload) || payload.seq <= state.lastSeq) return;
    pending.set(payload.seq, payload);
    if (!seeded) return;
    if (drain()) void replay().catch(() => {});
    checkFinished();
  };
  const onLogs = (payload: unknown) => {
    const batch = payload as LogBatch | undefined;
    if (!batch || !Array.isArray(batch.lines)) return;
    state = reduceLogs(state, batch);
    if (!opts.json && !tty && batch.sync === state.sync) {
      for (const l of batch.lines) if (l.source === "deploy") io.stdout.write(`${opts.deployment}: │ ${l.text}\n`);
    }
    scheduleDraw();
  };

  const view = await client.call<DeploymentView>(procedureUris.get, { deployment: opts.deployment, ...tenantKw });
  state = { ...state, tenant: view.tenant };
  await client.subscribe(eventsTopic(view.tenant, opts.deployment), onEvent);
  await client.subscribe(logsTopic(view.tenant, opts.deployment), onLogs).catch(() => {});
  state = seedFromView(state, view, opts.sync);
  seeded = true;
  if (!opts.json && !tty) {
    io.stdout.write(`${view.tenant}/${opts.deployment}: watching sync ${state.sync ?? "(none)"} (${state.syncState ?? "waiting"})\n`);
  }
  if (state.sync === null) {
    if (tty) draw();
    return 0;
  }
  client.onReconnect(() => void replay().catch(() => {}));
  await replay();
  checkFinished();
  if (tty) draw();

  try {
    return await Promise.race([done, client.lost]);
  } finally {
    if (redrawTimer) clearTimeout(redrawTimer);
    if (tty) draw();
    else if (!opts.json) io.stdout.write(render(state, Date.now()).slice(-1).join("\n") + "\n");
  }
}
