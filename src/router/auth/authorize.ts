import { carriedWampError, type ProcedureOutcome } from "../errors.js";
import { isDict, type WampDict } from "../messages.js";
import { sessionDetails, type Peer } from "../peer.js";
import type { Action, AuthorizerFn, ProcedureRef } from "./types.js";

/** A checked authorizer answer. */
export interface Authorization {
  readonly allow: boolean;
  readonly disclose: boolean;
  readonly cache: boolean;
}

export type AuthorizationOutcome = Authorization | { readonly failed: string };

export interface Authorizer {
  /** Synchronous when the answer is cached, static, or for role `trusted`. */
  authorize(peer: Peer, uri: string, action: Action, options: WampDict): AuthorizationOutcome | Promise<AuthorizationOutcome>;
  clearCache(): void;
}

const allowedKeys = new Set(["allow", "disclose", "cache", "validate"]);

/** Crossbar's sanity check of an authorizer answer; returns an error text for a bad one. */
export function checkAuthorizerResult(result: unknown, action: Action): Authorization | string {
  if (typeof result === "boolean") return { allow: result, disclose: false, cache: false };
  if (!isDict(result)) return `authorizer returned ${typeof result}, expected a bool or a dict`;
  for (const key of Object.keys(result)) if (!allowedKeys.has(key)) return `authorizer returned unexpected key '${key}'`;
  if (typeof result.allow !== "boolean") return "authorizer result 'allow' must be a bool";
  for (const key of ["disclose", "cache"] as const) {
    if (result[key] !== undefined && typeof result[key] !== "boolean") return `authorizer result '${key}' must be a bool`;
  }
  if (result.validate !== undefined && result.validate !== null && !isDict(result.validate)) return "authorizer result 'validate' must be a dict or null";
  void action;
  return { allow: result.allow, disclose: result.disclose === true, cache: result.cache === true };
}

/** The authorizer in charge of a role: a function, a procedure, or a fixed answer. */
export type RoleAuthorizer = AuthorizerFn | ProcedureRef | "allow" | "deny";

export interface AuthorizerConfig {
  authorizerFor(authrole: string): RoleAuthorizer;
  callProcedure(procedure: string, args: unknown[]): Promise<ProcedureOutcome>;
}

/**
 * Wraps the configured authorizer with Crossbar's semantics: role `trusted` is always allowed
 * (and disclosed for call/publish); answers with `cache: true` are remembered under
 * (realm, authrole, uri, action); errors and malformed answers fail the request.
 */
export function createAuthorizer(realm: string, config: AuthorizerConfig): Authorizer {
  const cache = new Map<string, Authorization>();
  const trusted: Authorization = { allow: true, disclose: true, cache: false };
  const open: Authorization = { allow: true, disclose: false, cache: false };
  const closed: Authorization = { allow: false, disclose: false, cache: false };

  const settle = (key: string, action: Action, result: unknown): AuthorizationOutcome => {
    const checked = checkAuthorizerResult(result, action);
    if (typeof checked === "string") return { failed: checked };
    if (checked.cache) cache.set(key, checked);
    return checked;
  };
  const failure = (err: unknown): AuthorizationOutcome => {
    const wamp = carriedWampError(err);
    return { failed: wamp !== undefined ? `${wamp.uri}: ${String(wamp.args?.[0] ?? "")}` : err instanceof Error ? err.message : String(err) };
  };
  const fromProcedure = (key: string, action: Action, outcome: ProcedureOutcome): AuthorizationOutcome =>
    outcome.kind === "result" ? settle(key, action, outcome.args[0]) : { failed: `${outcome.error.uri}: ${String(outcome.error.args?.[0] ?? "")}` };

  return {
    authorize(peer, uri, action, options) {
      if (peer.authrole === "trusted") return trusted;
      const fn = config.authorizerFor(peer.authrole);
      if (fn === "allow") return open;
      if (fn === "deny") return closed;
      const key = `${realm}\u0000${peer.authrole}\u0000${uri}\u0000${action}`;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const session = sessionDetails(peer);
      if (typeof fn !== "function") {
        return config.callProcedure(fn.procedure, [session, uri, action, options]).then((outcome) => fromProcedure(key, action, outcome));
      }
      try {
        const answer = fn(session, uri, action, options);
        if (answer instanceof Promise) return answer.then((r) => settle(key, action, r), failure);
        return settle(key, action, answer);
      } catch (err) {
        return failure(err);
      }
    },
    clearCache: () => cache.clear(),
  };
}
