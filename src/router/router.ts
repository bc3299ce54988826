import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { AppError } from "../errors.js";
import type { AuthConfig } from "./auth/authenticate.js";
import type { RoleAuthorizer } from "./auth/authorize.js";
import { loadPrincipalsFile, parsePrincipals } from "./auth/principals.js";
import { createStaticAuthorizer, type AuthorizationRule } from "./auth/static-authorizer.js";
import type { AuthenticatorFn, AuthMethod, AuthorizerFn, ProcedureRef, StaticPrincipal } from "./auth/types.js";
import { ErrorUri, type WampErrorReply } from "./errors.js";
import { randomId, type UriCheck } from "./ids.js";
import { sessionDetails } from "./peer.js";
import { createRealm, type Realm } from "./realm/realm.js";
import { maxNestingLimit, minNestingLimit } from "./serializers/layout.js";
import { allSerializers, serializersNamed, type SerializerName } from "./serializers/index.js";
import { openLocalSession, type LocalSession } from "./session/local-session.js";
import { sessionRole, shutdownSession, type SessionHost } from "./session/session.js";
import { createWebSocketEndpoint } from "./transport.js";
import type { PrefixMode } from "./uri-table.js";

/** One authorizer: an in-process function, a procedure registered in the realm, or a static table. */
export type AuthorizerSpec = AuthorizerFn | ProcedureRef | readonly AuthorizationRule[];

/** Per-role authorizers, as Crossbar configures them; roles without an entry use `default`, or are denied. */
export interface AuthorizersByRole {
  readonly byRole: Readonly<Record<string, AuthorizerSpec>>;
  readonly default?: AuthorizerSpec;
}

export interface RouterOptions {
  /**
   * Hold every session but role `trusted` in its handshake until `admit()` is called, so that
   * clients cannot join before the embedding service has registered its procedures. Default false.
   */
  readonly holdUntilAdmitted?: boolean;
  /** Realms served; default `["fediversity"]`. Unknown realms are refused (`wamp.error.no_such_realm`). */
  readonly realms?: readonly string[];
  /** Static principals: the list itself, or the path of a JSON file holding it. */
  readonly principals?: readonly StaticPrincipal[] | string;
  /** Challenge methods accepted; default ticket, wampcra, cryptosign. */
  readonly authMethods?: readonly Exclude<AuthMethod, "anonymous">[];
  /** Anonymous sessions get this role; off unless given. */
  readonly anonymous?: { readonly role: string };
  /** Crossbar dynamic authenticator: an in-process function or a procedure registered in a realm. */
  readonly authenticator?: AuthenticatorFn | ProcedureRef;
  /**
   * Crossbar authorizer: a function, a procedure registered in the session's realm, or a static
   * rule table; or one of those per role (`{ byRole, default? }`). Without one every authenticated
   * session may do everything. Role `trusted` is always allowed.
   */
  readonly authorizer?: AuthorizerSpec | AuthorizersByRole;
  /** `string` (WAMP spec, default) or `segment` (prefixes match whole URI components only). */
  readonly prefixMatching?: PrefixMode;
  readonly uriCheck?: UriCheck;
  /**
   * Timeout for calls without a `timeout` option; default 0 = none. With progressive results it
   * runs between results: each one restarts it.
   */
  readonly callTimeoutMs?: number;
  /**
   * How deep lists and dicts may nest in any element of a message (a list or dict element is
   * level 1); default 64, from 8 (HELLO's details.roles.<role>.features take 4) to 1000. Checked on the frame's bytes before anything is decoded:
   * a deeper CALL fails with `callPayloadError`, other requests with `wamp.error.invalid_argument`.
   */
  readonly maxNestingDepth?: number;
  /**
   * The ERROR a caller gets when the router refuses its CALL's payload (nested too deep, a dict key
   * that is not a string or is `__proto__`, a value the decoder rejects, arguments its callee's
   * serializer cannot carry). `problem` is an AppError `invalid_argument` whose message names the
   * element and the limit, with `details: [{ path, message }]`. Default: `wamp.error.invalid_argument`
   * with the message as the only argument.
   */
  readonly callPayloadError?: (problem: AppError) => WampErrorReply;
  /** Default 4 MiB. */
  readonly maxMessageBytes?: number;
  /** Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /** Default 30 s; 0 disables. */
  readonly pingIntervalMs?: number;
  /** HELLO to WELCOME must finish within this; default 20 s. */
  readonly handshakeTimeoutMs?: number;
  /** Timeout of the router's calls to dynamic authenticators/authorizers; default 10 s. */
  readonly authCallTimeoutMs?: number;
  readonly serializers?: readonly SerializerName[];
  readonly logger?: Logger;
}

export interface ListenOptions {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
}

export interface TrustedCredential {
  readonly authid: string;
  readonly ticket: string;
  readonly authmethods: readonly ["ticket"];
}

export interface Router {
  /** Serves WAMP on `path` (default `/ws`) of an existing HTTP server; other paths are left alone. */
  attach(server: Server, options?: { readonly path?: string }): void;
  /** Starts an own HTTP server (default 127.0.0.1, path `/ws`); resolves to its ws:// URL. */
  listen(options?: ListenOptions): Promise<{ readonly url: string; readonly host: string; readonly port: number }>;
  /**
   * An in-process credential for role `trusted` (ticket auth): valid until revoked or the router
   * closes, reusable across reconnects. Never written anywhere.
   */
  issueTrustedTicket(authid?: string): TrustedCredential;
  /** Lets held sessions (see `holdUntilAdmitted`) and all later ones join. */
  admit(): void;
  /**
   * Ends every session but role `trusted` with GOODBYE `wamp.close.system_shutdown` and holds new
   * ones again: a stopping service does this before it unregisters its procedures.
   */
  dismissClients(): void;
  revokeTrustedTicket(authid: string): void;
  clearAuthorizationCache(): void;
  /**
   * In-process lookup of a joined session (same shape as `wamp.session.get`), e.g. to read the
   * caller's `authextra.tenant` from the `caller` id an INVOCATION discloses.
   */
  getSession(session: number): Record<string, unknown> | undefined;
  sessionCount(realm?: string): number;
  /**
   * Publishes as the router itself (like its meta events): for a service embedded in the same
   * process, which would otherwise encode, send, receive and decode each event over loopback.
   * Subscribers were authorized when they subscribed; no publisher is disclosed.
   */
  publishLocal(realm: string, topic: string, args: readonly unknown[], kwargs?: Record<string, unknown>): void;
  /**
   * A session of role `trusted` inside this process (default realm: the first one): registers,
   * subscribes and publishes without encoding, and as a callee honours call canceling. For the
   * service that embeds the router, instead of a WebSocket connection over loopback.
   */
  openLocalSession(options?: { readonly realm?: string; readonly authid?: string }): LocalSession;
  /** GOODBYE to every session (wamp.close.system_shutdown), then closes the own server if any. */
  close(): Promise<void>;
}

const defaultCallPayloadError = (problem: AppError): WampErrorReply => ({ uri: ErrorUri.invalidArgument, args: [problem.message] });

export function createRouter(options: RouterOptions = {}): Router {
  const logger = options.logger ?? pino({ level: "silent" });
  const maxNestingDepth = options.maxNestingDepth ?? 64;
  if (!Number.isInteger(maxNestingDepth) || maxNestingDepth < minNestingLimit || maxNestingDepth > maxNestingLimit) {
    const range = `an integer from ${minNestingLimit} to ${maxNestingLimit}`;
    throw new AppError("invalid_argument", `maxNestingDepth must be ${range}`, [{ path: "maxNestingDepth", message: `${String(maxNestingDepth)} is not ${range}` }]);
  }
  const callPayloadError = options.callPayloadError ?? defaultCallPayloadError;
  const prefixMode = options.prefixMatching ?? "string";
  const principals =
    typeof options.principals === "string" ? loadPrincipalsFile(options.principals) : parsePrincipals(options.principals ?? []);
  const trustedTickets = new Map<string, string>();
  const authorizerFor = resolveAuthorizers(options.authorizer, prefixMode);
  const authCallTimeoutMs = options.authCallTimeoutMs ?? 10_000;

  const realms = new Map<string, Realm>();
  for (const name of options.realms ?? ["fediversity"]) {
    realms.set(
      name,
      createRealm({ name, prefixMode, defaultCallTimeoutMs: options.callTimeoutMs ?? 0, authorizerFor, internalCallTimeoutMs: authCallTimeoutMs, callPayloadError }),
    );
  }

  const authConfig: AuthConfig = {
    principals,
    methods: options.authMethods ?? ["ticket", "wampcra", "cryptosign"],
    anonymous: options.anonymous,
    authenticator: options.authenticator,
    trustedTickets,
  };
  const uriCheck = options.uriCheck ?? "loose";
  const localSessions = new Set<LocalSession>();
  let admitted = options.holdUntilAdmitted !== true;
  const held: (() => void)[] = [];
  const host: SessionHost = {
    realms,
    whenAdmitted(join) {
      if (admitted) join();
      else held.push(join);
    },
    uriCheck,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 20_000,
    maxNestingDepth,
    callPayloadError,
    logger,
    newSessionId: randomId,
    auth: {
      config: authConfig,
      async callProcedure(realmName, procedure, args) {
        const realm = realms.get(realmName);
        if (realm === undefined) return { kind: "error", error: { uri: ErrorUri.noSuchRealm, args: [`authenticator realm '${realmName}' does not exist`] } };
        return realm.dealer.callInternal(procedure, args, {}, authCallTimeoutMs);
      },
    },
  };
  const serializers = options.serializers ? serializersNamed(options.serializers) : allSerializers;
  const endpoint = createWebSocketEndpoint(
    host,
    {
      maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      serializers,
    },
    logger,
  );
  const ownServers: Server[] = [];
  const realmNamed = (name: string): Realm => {
    const realm = realms.get(name);
    if (realm === undefined) throw new AppError("not_found", `no realm '${name}'`);
    return realm;
  };

  const attach: Router["attach"] = (server, attachOptions) => {
    const path = attachOptions?.path ?? "/ws";
    server.on("upgrade", (request, socket, head) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      if (url.pathname === path) endpoint.handleUpgrade(request, socket, head);
      else if (ownServers.includes(server)) socket.destroy();
    });
  };

  return {
    attach,
    async listen(listenOptions = {}) {
      const hostName = listenOptions.host ?? "127.0.0.1";
      const path = listenOptions.path ?? "/ws";
      const server = createServer((_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" }).end("WAMP over WebSocket only\n");
      });
      ownServers.push(server);
      attach(server, { path });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(listenOptions.port ?? 0, hostName, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return { url: `ws://${urlHost}:${address.port}${path}`, host: address.address, port: address.port };
    },
    issueTrustedTicket(authid = "fediversity-service") {
      const ticket = randomBytes(32).toString("base64url");
      trustedTickets.set(authid, ticket);
      return { authid, ticket, authmethods: ["ticket"] as const };
    },
    revokeTrustedTicket: (authid) => void trustedTickets.delete(authid),
    admit() {
      admitted = true;
      for (const join of held.splice(0)) join();
    },
    dismissClients() {
      admitted = false;
      for (const session of endpoint.sessions) if (sessionRole(session) !== "trusted") shutdownSession(session);
    },
    clearAuthorizationCache() {
      for (const realm of realms.values()) realm.authorizer.clearCache();
    },
    getSession(id) {
      for (const realm of realms.values()) {
        const peer = realm.sessions.get(id);
        if (peer !== undefined) return sessionDetails(peer);
      }
      return undefined;
    },
    publishLocal(realmName, topic, args, kwargs) {
      realmNamed(realmName).broker.publish(undefined, { topic, options: {}, args: [...args], kwargs, disclose: false });
    },
    openLocalSession(localOptions = {}) {
      const realm = realmNamed(localOptions.realm ?? [...realms.keys()][0] ?? "");
      const local = openLocalSession(realm, { session: randomId(), authid: localOptions.authid ?? "fediversity-service", uriCheck });
      localSessions.add(local);
      return local;
    },
    sessionCount(realmName) {
      if (realmName !== undefined) return realms.get(realmName)?.sessions.size ?? 0;
      let n = 0;
      for (const realm of realms.values()) n += realm.sessions.size;
      return n;
    },
    async close() {
      trustedTickets.clear();
      for (const local of localSessions) local.close();
      localSessions.clear();
      await endpoint.close();
      await Promise.all(
        ownServers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function resolveAuthorizers(option: AuthorizerSpec | AuthorizersByRole | undefined, prefixMode: PrefixMode): (role: string) => RoleAuthorizer {
  const one = (spec: AuthorizerSpec): AuthorizerFn | ProcedureRef =>
    Array.isArray(spec) ? createStaticAuthorizer(spec as readonly AuthorizationRule[], { prefixMode }) : (spec as AuthorizerFn | ProcedureRef);
  if (option === undefined) return () => "allow";
  if (typeof option === "object" && !Array.isArray(option) && "byRole" in option) {
    const byRole = new Map(Object.entries(option.byRole).map(([role, spec]) => [role, one(spec)]));
    const fallback = option.default === undefined ? "deny" : one(option.default);
    return (role) => byRole.get(role) ?? fallback;
  }
  const single = one(option as AuthorizerSpec);
  return () => single;
}
