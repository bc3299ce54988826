/**
 * Who is calling, from the WAMP session the router disclosed (never from arguments), and which
 * tenant a call acts for. Every procedure applies these checks itself, whatever the router's
 * authorizer decided.
 */
import { AppError } from "../errors.js";
import { tenantPattern } from "./schemas.js";

export const apiRoles = ["tenant", "panel", "operator"] as const;
export type ApiRole = (typeof apiRoles)[number];

export function isApiRole(value: string): value is ApiRole {
  return (apiRoles as readonly string[]).includes(value);
}

export interface CallerIdentity {
  /** WAMP session id of the caller, when disclosed. */
  readonly session: number | null;
  readonly authid: string;
  readonly authrole: string;
  /** `authextra.tenant` of the caller's session, when it has a valid one. */
  readonly tenant: string | null;
}

/** What the router tells the callee, under the names WAMP uses (`details` of INVOCATION). */
export interface DisclosedCaller {
  readonly caller?: number | null | undefined;
  readonly caller_authid?: string | null | undefined;
  readonly caller_authrole?: string | null | undefined;
  /** Not sent by every router, and dropped by autobahn-js 22; then the session is looked up. */
  readonly caller_authextra?: Record<string, unknown> | null | undefined;
}

/** A session's identity as `wamp.session.get` (Crossbar's meta API) returns it. */
export interface SessionInfo {
  readonly authid?: string | null;
  readonly authrole?: string | null;
  readonly authextra?: Record<string, unknown> | null;
}

export type SessionLookup = (sessionId: number) => Promise<SessionInfo | null>;

function tenantOf(authextra: Record<string, unknown> | null | undefined): string | null {
  const value = authextra?.["tenant"];
  return typeof value === "string" && tenantPattern.test(value) ? value : null;
}

/**
 * Builds the caller's identity from the invocation details; authextra comes from the details when
 * the router sent `caller_authextra`, otherwise from `lookup(caller)`. Throws not_authorized when
 * the router disclosed nothing.
 */
export async function identifyCaller(details: DisclosedCaller | undefined, lookup?: SessionLookup): Promise<CallerIdentity> {
  const session = typeof details?.caller === "number" ? details.caller : null;
  let authid = details?.caller_authid ?? null;
  let authrole = details?.caller_authrole ?? null;
  let authextra = details?.caller_authextra ?? null;
  if (authextra === null && session !== null && lookup) {
    const info = await lookup(session);
    if (info) {
      authid ??= info.authid ?? null;
      authrole ??= info.authrole ?? null;
      authextra = info.authextra ?? null;
    }
  }
  if (authrole === null || authid === null) {
    throw new AppError("not_authorized", "the router did not disclose the caller's identity");
  }
  return { session, authid, authrole, tenant: tenantOf(authextra) };
}

/** The caller's role, if it is one of the API's; otherwise not_authorized. */
export function requireKnownRole(caller: CallerIdentity): ApiRole {
  if (!isApiRole(caller.authrole)) {
    throw new AppError("not_authorized", `role '${caller.authrole}' may not use the deployment API`);
  }
  return caller.authrole;
}

/**
 * The tenant a call acts for. Role `tenant`: its own (naming another → not_authorized).
 * Roles `panel`/`operator`: the `tenant` kwarg; when absent, invalid_argument if `required`,
 * otherwise null (all tenants).
 */
export function resolveTenant(caller: CallerIdentity, requested: string | undefined, required: true): string;
export function resolveTenant(caller: CallerIdentity, requested: string | undefined, required: boolean): string | null;
export function resolveTenant(caller: CallerIdentity, requested: string | undefined, required: boolean): string | null {
  const role = requireKnownRole(caller);
  switch (role) {
    case "tenant": {
      if (caller.tenant === null) {
        throw new AppError("not_authorized", "this session carries no tenant");
      }
      if (requested !== undefined && requested !== caller.tenant) {
        throw new AppError("not_authorized", `a session of tenant '${caller.tenant}' may not act for tenant '${requested}'`);
      }
      return caller.tenant;
    }
    case "panel":
    case "operator": {
      if (requested !== undefined) return requested;
      if (required) {
        throw new AppError("invalid_argument", `tenant: required for role ${role}`, [
          { path: "tenant", message: `required for role ${role}` },
        ]);
      }
      return null;
    }
    default: {
      const unreachable: never = role;
      return unreachable;
    }
  }
}

/** Only role operator (e.g. `queue.status`). */
export function requireOperator(caller: CallerIdentity): void {
  if (requireKnownRole(caller) !== "operator") {
    throw new AppError("not_authorized", "only role operator may do this");
  }
}
