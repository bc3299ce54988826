/**
 * Publishes stored events and log batches to their topics. Call it only after the event is stored
 * (the contract's replay guarantee depends on that order); a failed publish loses nothing, since
 * clients replay with `deployment.events`.
 */
import type autobahn from "autobahn";
import { eventsTopic, logsTopic } from "./uris.js";
import type { CommittedBatch, DeploymentEvent, LogLine } from "../core/index.js";

export interface EventPublisher {
  /** One WAMP event per stored event, `args[0]` = the event, on `fediversity.events.<tenant>.<deployment>`. */
  publishEvent(event: DeploymentEvent): Promise<void>;
  /** Several stored events, in order. */
  publishEvents(events: readonly DeploymentEvent[]): Promise<void>;
  /** `{ sync, lines }` on `fediversity.logs.<tenant>.<deployment>` (nothing for an empty batch). */
  publishLogs(tenant: string, deployment: string, sync: string, lines: readonly LogLine[]): Promise<void>;
  /** Everything one store transaction committed, events first, then log batches (the component's commit listener). */
  publishCommit(batch: CommittedBatch): Promise<void>;
}

export interface EventPublisherOptions {
  /** Wait for the broker's acknowledgement (slower; surfaces authorization errors). Default false. */
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

  const publish = async (topic: string, payload: unknown): Promise<void> => {
    try {
      // exclude_me false: a client sharing the service's session (tests, the CLI in-process) still hears it.
      const result = session.publish(topic, [payload], {}, { acknowledge, exclude_me: false });
      if (acknowledge) await result;
    } catch (err) {
      options.onError?.(err, topic);
    }
  };

  const publishEvent = (event: DeploymentEvent) => publish(eventsTopic(event.tenant, event.deployment), event);

  const publishEvents = async (events: readonly DeploymentEvent[]) => {
    for (const event of events) await publishEvent(event);
  };
  const publishLogs = async (tenant: string, deployment: string, sync: string, lines: readonly LogLine[]) => {
    const topic = logsTopic(tenant, deployment);
    for (let i = 0; i < lines.length; i += maxLines) {
      await publish(topic, { sync, lines: lines.slice(i, i + maxLines) });
    }
  };
  return {
    publishEvent,
    publishEvents,
    publishLogs,
    async publishCommit(batch) {
      await publishEvents(batch.events);
      for (const logs of batch.logs) await publishLogs(logs.tenant, logs.deployment, logs.sync, logs.lines);
    },
  };
}
