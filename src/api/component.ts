/**
 * The service as a WAMP component: it registers the API, optionally the dynamic authenticator and
 * authorizer, and publishes every committed event. On the embedded router it uses the router's
 * in-process session; on an external router such as Crossbar.io, one autobahn-js connection that
 * reconnects for ever and registers again after each reconnect, so a router restart costs a short
 * gap that clients close by replaying `deployment.events`.
 */
import autobahn from "autobahn";
import { AppError } from "../errors.js";
import type { Logger } from "pino";
import type { LocalSession } from "../router/index.js";
import type { CommitFeed, DeploymentService } from "../service/port.js";
import { createEventPublisher, type EventPublisher } from "./publisher.js";
import type { FollowGauge, ProcedureLimits } from "./procedures.js";
import { registerApi, registerAuthorizer, type ApiHandle } from "./register.js";
import type { SessionLookup } from "./caller.js";

export interface ComponentOptions {
  readonly url: string;
  readonly realm: string;
  /** Ticket credentials for the connection to `url`; not used with `localSession`. */
  readonly authid?: string;
  readonly ticket?: string;
  /**
   * The embedded router's in-process session (Router.openLocalSession): used instead of a
   * connection to `url`. It honours call canceling, so the router passes it progressive calls.
   */
  readonly localSession?: LocalSession;
  /** The procedures to register, and the commits whose events and log lines are published. */
  readonly service: DeploymentService & CommitFeed;
  /** The configured limits the procedures enforce (default: core's). */
  readonly limits?: ProcedureLimits;
  /** In-process session lookup (embedded router); otherwise `wamp.session.get` is used. */
  readonly lookupSession?: SessionLookup;
  /** Also register a Crossbar-shaped authenticator / authorizer under these URIs. */
  readonly authenticator?: { readonly uri: string; readonly authenticate: (args: unknown[]) => unknown };
  readonly authorizerUri?: string;
  readonly allowBareTenantPrefix?: boolean;
  readonly logger: Logger;
  readonly onPublished?: (count: number) => void;
  /** Counts `build.logs` follow calls in progress. */
  readonly follows?: FollowGauge;
  /**
   * Publishes without a WAMP session, e.g. straight into an embedded router in this process. When
   * set, events go out through it even while the API session is reconnecting.
   */
  readonly publishLocally?: (topic: string, args: readonly unknown[]) => void;
}

export interface Component {
  /** Resolves once the first session is up and the API is registered. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function startComponent(options: ComponentOptions): Component {
  const log = options.logger.child({ component: "wamp-component" });
  // autobahn-js console.warns every connection change ("auto-reconnect disabled!" on each close);
  // in the service those belong in the structured log, at debug level.
  (autobahn.log as unknown as { warn: (...args: unknown[]) => void }).warn = (...args: unknown[]) =>
    log.debug({ autobahn: args.map(describe).join(" ") }, "autobahn");
  const onPublishError = (err: unknown, topic: string) => log.warn({ topic, err: String(err) }, "publish failed");
  const local = options.publishLocally;
  const localPublisher = local
    ? createEventPublisher(
        {
          publish: (topic: string, args?: unknown[]) => {
            local(topic, args ?? []);
            return undefined;
          },
        } as unknown as Pick<autobahn.Session, "publish">,
        { onError: onPublishError },
      )
    : null;
  let publisher: EventPublisher | null = localPublisher;
  let api: ApiHandle | null = null;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const registerAll = async (session: autobahn.Session): Promise<void> => {
    api = await registerApi(session, options.service, {
      ...options.limits,
      ...(options.follows ? { follows: options.follows } : {}),
      ...(options.lookupSession ? { lookupSession: options.lookupSession } : {}),
      logger: { warn: (obj, msg) => log.warn(obj, msg), error: (obj, msg) => log.error(obj, msg) },
    });
    if (options.authorizerUri) {
      await registerAuthorizer(session, options.authorizerUri, { allowBareTenantPrefix: options.allowBareTenantPrefix ?? false });
    }
    if (options.authenticator) {
      await session.register(options.authenticator.uri, (args?: unknown[]) => options.authenticator?.authenticate(args ?? []));
    }
    publisher = localPublisher ?? createEventPublisher(session, { onError: onPublishError });
    log.info({ url: options.url, procedures: api.registrations.size }, "API registered");
  };

  // Published only after commit, and before the next one: the listener runs synchronously after each
  // commit and publishCommit sends everything before it returns (see publisher.ts).
  const stopPublishing = options.service.onCommit((batch) => {
    if (!publisher) return;
    publisher.publishCommit(batch);
    if (batch.events.length > 0) options.onPublished?.(batch.events.length);
  });

  const inProcess = options.localSession;
  if (inProcess) {
    // The in-process session has the part of autobahn's Session the API uses (see LocalSession).
    const registered = registerAll(inProcess as unknown as autobahn.Session);
    return {
      ready: registered,
      async close() {
        stopPublishing();
        await api?.close().catch(() => undefined);
        inProcess.close();
      },
    };
  }

  if (options.authid === undefined || options.ticket === undefined) {
    throw new AppError("invalid_argument", "a component connecting to a router needs an authid and a ticket");
  }
  const { authid, ticket } = options;

  const connection = new autobahn.Connection({
    url: options.url,
    realm: options.realm,
    authmethods: ["ticket"],
    authid,
    onchallenge: (_session, method) => {
      if (method === "ticket") return ticket;
      throw new AppError("not_authorized", `the router asks for authentication method ${method}; only ticket is configured`);
    },
    max_retries: -1,
    initial_retry_delay: 0.2,
    max_retry_delay: 5,
    retry_delay_growth: 1.5,
    // Application errors are answers to callers, not faults of ours: keep them off the console.
    on_user_error: (err: unknown) => log.debug({ err: String(err) }, "procedure raised"),
  } as autobahn.IConnectionOptions);

  let closing = false;
  let reopenTimer: NodeJS.Timeout | null = null;
  let reopenDelayMs = 200;
  let onClosed: (() => void) | null = null;
  connection.onopen = (session) => {
    reopenDelayMs = 200;
    void (async () => {
      try {
        await registerAll(session);
        markReady();
      } catch (err) {
        log.error({ err: String(err) }, "registering the API failed; reconnecting");
        session.leave("wamp.close.goodbye_and_out", "registration failed");
      }
    })();
  };
  connection.onclose = (reason, details) => {
    publisher = localPublisher;
    api = null;
    if (closing) {
      onClosed?.();
      return true;
    }
    log.warn({ reason, details: details?.reason }, "WAMP session closed");
    // autobahn-js gives up after the router said GOODBYE (e.g. wamp.close.system_shutdown when
    // Crossbar restarts cleanly) or after a refused join: open a new connection ourselves, with
    // backoff, so the API is registered again once the router is back.
    const willRetry = (details as { will_retry?: boolean } | undefined)?.will_retry === true;
    if (!closing && !willRetry && reopenTimer === null) {
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        if (closing) return;
        try {
          connection.open();
        } catch (err) {
          log.warn({ err: String(err) }, "reopening the WAMP connection failed");
        }
      }, reopenDelayMs);
      reopenDelayMs = Math.min(reopenDelayMs * 2, 5_000);
    }
    return false;
  };
  connection.open();

  return {
    ready,
    async close() {
      stopPublishing();
      closing = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      await api?.close().catch(() => undefined);
      // Leave with a complete GOODBYE handshake (bounded), so the router sees a clean leave.
      const closed = new Promise<void>((resolve) => {
        onClosed = resolve;
        setTimeout(resolve, 2_000).unref();
      });
      try {
        connection.close();
        await closed;
      } catch {
        // already closed (autobahn throws "connection already closed")
      }
    },
  };
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
