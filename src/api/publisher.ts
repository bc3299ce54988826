/**
 * Publishes what the store committed: each stored event on its deployment's topic, then each batch
 * of log lines. Called only after the commit (the contract's replay guarantee depends on that
 * order); a failed publish loses nothing, since clients replay with `deployment.events`.
 *
 * Order is kept by construction: `publishCommit` hands every message to the session (or the
 * embedded router) before it returns, and the component calls it from the store's commit listener,
 * which runs synchronously after each commit, in commit order. So publication order is commit
 * order, and each deployment's events leave in `seq` order; the router keeps one publisher's order
 * per subscriber. Nothing here may wait between two messages: two commits would then interleave.
 */
import type autobahn from "autobahn";
import type { CommittedBatch } from "../core/index.js";
import { eventsTopic, logsTopic } from "./uris.js";

export interface EventPublisher {
  /** Everything one store transaction committed, events first (in seq order), then log batches; all sent when it returns. */
  publishCommit(batch: CommittedBatch): void;
}

export interface EventPublisherOptions {
  /** Ask the broker to acknowledge each publication (slower; surfaces authorization errors). Default false. */
  readonly acknowledge?: boolean;
  /** Called when a publish fails; the default ignores it. */
  readonly onError?: (err: unknown, topic: string) => void;
  /** Split log batches above this many lines (default 500). */
  readonly maxLinesPerBatch?: number;
}

type Publishing = Pick<autobahn.Session, "publish">;

export function createEventPublisher(session: Publishing, options: EventPublisherOptions = {}): EventPublisher {
  const acknowledge = options.acknowledge ?? false;
  const maxLines = Math.max(1, options.maxLinesPerBatch ?? 500);

  const publish = (topic: string, payload: unknown): void => {
    try {
      // exclude_me false: a client sharing the service's session (tests, the CLI in-process) still hears it.
      const acknowledged = session.publish(topic, [payload], {}, { acknowledge, exclude_me: false }) as PromiseLike<unknown> | undefined;
      // The message is on its way already; an acknowledgement only reports, it is never waited for.
      if (acknowledge) acknowledged?.then(undefined, (err: unknown) => options.onError?.(err, topic));
    } catch (err) {
      options.onError?.(err, topic);
    }
  };

  return {
    publishCommit(batch) {
      for (const event of batch.events) publish(eventsTopic(event.tenant, event.deployment), event);
      for (const { tenant, deployment, sync, lines } of batch.logs) {
        const topic = logsTopic(tenant, deployment);
        for (let i = 0; i < lines.length; i += maxLines) publish(topic, { sync, lines: lines.slice(i, i + maxLines) });
      }
    },
  };
}
