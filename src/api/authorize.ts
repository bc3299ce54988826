/**
 * The static authorization table of docs/api.md, as a Crossbar-shaped authorizer:
 * `authorize(session, uri, action, options) → { allow, disclose, cache }`. The embedded router can
 * call it in-process; registered as a WAMP procedure it serves as Crossbar.io's dynamic authorizer.
 *
 * - service roles (default `service`, `trusted`): everything (they register and publish).
 * - `panel`, `operator`, `tenant`: call every API procedure. The router lets `queue.status`
 *   through for all three so that the procedure itself refuses non-operators with the contract's
 *   `fediversity.error.not_authorized` (a router denial would be `wamp.error.not_authorized`,
 *   which clients coding against docs/api.md do not expect); the same goes for a tenant naming another
 *   tenant. Panel and operator subscribe to anything under `fediversity.*`.
 * - `tenant` (authextra.tenant): subscribe only to topics whose tenant segment is its own (see
 *   `topicIsTenants`).
 * - nobody else registers or publishes; everything not listed is denied.
 *
 * Decisions that depend on the session's tenant are never cached (Crossbar caches per authrole).
 */
import { tenantPattern, deploymentPattern } from "./schemas.js";
import { allProcedureUris, eventsTopicPrefix, logsTopicPrefix } from "./uris.js";

export type WampAction = "call" | "register" | "publish" | "subscribe";

/**
 * The session dict Crossbar passes to an authorizer (`session`, `authid`, `authrole`,
 * `authextra`, ...); only `authrole` and `authextra.tenant` are read, defensively.
 */
export type AuthorizerSession = Readonly<Record<string, unknown>>;

export interface AuthorizationDecision {
  allow: boolean;
  disclose: boolean;
  cache: boolean;
}

export interface AuthorizeOptions {
  /** Roles of the service itself; default `["service", "trusted"]`. */
  readonly serviceRoles?: readonly string[];
  /**
   * Allow a tenant session a prefix subscription to the bare `fediversity.events.<tenant>`. A plain
   * string-prefix broker (WAMP's, Crossbar's) would then also deliver the topics of any tenant whose
   * name starts with this one (`acme` → `acme2`), so this is off by default and tenant sessions
   * subscribe to `fediversity.events.<tenant>.` (trailing dot) instead. Turn it on only with a
   * router whose prefix match stops at segment boundaries.
   */
  readonly allowBareTenantPrefix?: boolean;
}

const defaultServiceRoles = ["service", "trusted"];
const topicRoots = [eventsTopicPrefix, logsTopicPrefix];
// queue.status included: the procedure refuses non-operators itself (see above).
const tenantProcedures = new Set(allProcedureUris);
const panelProcedures = tenantProcedures;
const operatorProcedures = tenantProcedures;

const deny = (cache: boolean): AuthorizationDecision => ({ allow: false, disclose: false, cache });

/** Whether a subscription `uri` with `match` can only ever deliver topics of `tenant`. */
export function topicIsTenants(uri: string, match: string, tenant: string, allowBareTenantPrefix = false): boolean {
  for (const root of topicRoots) {
    const base = `${root}.${tenant}`;
    switch (match) {
      case "exact": {
        const rest = uri.startsWith(`${base}.`) ? uri.slice(base.length + 1) : null;
        if (rest !== null && deploymentPattern.test(rest)) return true;
        break;
      }
      case "prefix": {
        if (uri.startsWith(`${base}.`)) return true;
        if (uri === base && allowBareTenantPrefix) return true;
        break;
      }
      case "wildcard": {
        const parts = uri.split(".");
        const [p0, p1, p2, p3] = parts;
        const rootParts = root.split(".");
        if (
          parts.length === 4 &&
          p0 === rootParts[0] &&
          p1 === rootParts[1] &&
          p2 === tenant &&
          p3 !== undefined &&
          (p3 === "" || deploymentPattern.test(p3))
        ) {
          return true;
        }
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

function isUnderFediversity(uri: string): boolean {
  return uri === "fediversity" || uri.startsWith("fediversity.");
}

export function authorize(
  session: AuthorizerSession,
  uri: string,
  action: WampAction | string,
  options?: Record<string, unknown> | null,
  config: AuthorizeOptions = {},
): AuthorizationDecision {
  const role = typeof session["authrole"] === "string" ? session["authrole"] : "";
  const serviceRoles = config.serviceRoles ?? defaultServiceRoles;
  if (serviceRoles.includes(role)) {
    return { allow: true, disclose: action === "call", cache: true };
  }
  const rawMatch = options?.["match"];
  const match = typeof rawMatch === "string" ? rawMatch : "exact";
  switch (role) {
    case "operator":
    case "panel": {
      const procedures = role === "operator" ? operatorProcedures : panelProcedures;
      if (action === "call") {
        return procedures.has(uri) ? { allow: true, disclose: true, cache: true } : deny(true);
      }
      if (action === "subscribe") {
        return isUnderFediversity(uri) ? { allow: true, disclose: false, cache: true } : deny(true);
      }
      return deny(true);
    }
    case "tenant": {
      const authextra = session["authextra"];
      const rawTenant = typeof authextra === "object" && authextra !== null ? (authextra as Record<string, unknown>)["tenant"] : undefined;
      const tenant = typeof rawTenant === "string" && tenantPattern.test(rawTenant) ? rawTenant : null;
      if (tenant === null) return deny(false);
      if (action === "call") {
        return tenantProcedures.has(uri) ? { allow: true, disclose: true, cache: false } : deny(false);
      }
      if (action === "subscribe") {
        return topicIsTenants(uri, match, tenant, config.allowBareTenantPrefix)
          ? { allow: true, disclose: false, cache: false }
          : deny(false);
      }
      return deny(false);
    }
    default:
      return deny(false);
  }
}

/** The authorizer with fixed options, in the 4-argument shape routers call. */
export function createAuthorizer(config: AuthorizeOptions = {}) {
  return (session: AuthorizerSession, uri: string, action: string, options?: Record<string, unknown> | null) =>
    authorize(session, uri, action, options, config);
}
