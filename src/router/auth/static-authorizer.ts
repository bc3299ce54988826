import type { WampDict } from "../messages.js";
import { prefixMatches, type PrefixMode } from "../uri-table.js";
import type { Action, AuthorizerFn } from "./types.js";

/**
 * One row of the static authorization table. `uri` may contain `{tenant}` (the session's
 * `authextra.tenant`) and `{authid}`; a rule whose placeholder has no value (or a value with a
 * dot) never applies. `match: "prefix"` covers the URI itself and everything below it, at URI
 * component boundaries.
 */
export interface AuthorizationRule {
  readonly role: string;
  readonly actions: readonly Action[] | "*";
  readonly uri: string;
  readonly match?: "exact" | "prefix";
  readonly disclose?: boolean;
}

export interface StaticAuthorizerOptions {
  /** The router's prefix matching; with `string`, a prefix request ending exactly at a rule's `{tenant}` is refused. */
  readonly prefixMode?: PrefixMode;
}

function expand(template: string, session: WampDict): string | undefined {
  let ok = true;
  const out = template.replace(/\{(tenant|authid)\}/g, (_, name: string) => {
    const extra = session.authextra as WampDict | undefined;
    const value = name === "tenant" ? extra?.tenant : session.authid;
    if (typeof value !== "string" || value === "" || /[.\s#]/.test(value)) ok = false;
    return String(value);
  });
  return ok ? out : undefined;
}

/** An authorizer (Crossbar shape, synchronous, never cached by role) from a declarative table. */
export function createStaticAuthorizer(rules: readonly AuthorizationRule[], options: StaticAuthorizerOptions = {}): AuthorizerFn {
  const prefixMode = options.prefixMode ?? "string";
  return (session, uri, action, requestOptions) => {
    const requestMatch = requestOptions.match ?? "exact";
    for (const rule of rules) {
      if (rule.role !== session.authrole) continue;
      if (rule.actions !== "*" && !rule.actions.includes(action)) continue;
      const ruleUri = expand(rule.uri, session);
      if (ruleUri === undefined) continue;
      let allowed: boolean;
      if ((rule.match ?? "exact") === "exact") {
        allowed = requestMatch === "exact" && uri === ruleUri;
      } else {
        allowed = prefixMatches(uri, ruleUri, "segment");
        // Under string prefix matching `a.acme` would also match `a.acme-corp.x`: require a boundary.
        if (allowed && prefixMode === "string" && requestMatch === "prefix" && !uri.endsWith(".") && uri.length === ruleUri.length && rule.uri.endsWith("}")) {
          allowed = false;
        }
      }
      if (allowed) return rule.disclose === undefined ? true : { allow: true, disclose: rule.disclose, cache: false };
    }
    return false;
  };
}

export interface FediversityRulesOptions {
  /** Roles allowed everything under `prefixes` (default operator and panel). */
  readonly fullAccessRoles?: readonly string[];
  /** Default `["fediversity"]`. */
  readonly prefixes?: readonly string[];
  readonly tenantRole?: string;
}

/**
 * The service's default table: operator/panel may do everything under the prefixes (role
 * `trusted` is always allowed by the router); a tenant may call `fediversity.*` procedures and
 * subscribe to `fediversity.events.<its tenant>…` and `fediversity.logs.<its tenant>…`, nothing else.
 * Calls are disclosed (`caller`, `caller_authid`, `caller_authrole`) so the service knows who calls.
 */
export function fediversityAuthorizationRules(options: FediversityRulesOptions = {}): AuthorizationRule[] {
  const prefixes = options.prefixes ?? ["fediversity"];
  const tenantRole = options.tenantRole ?? "tenant";
  const rules: AuthorizationRule[] = [];
  for (const role of options.fullAccessRoles ?? ["operator", "panel"]) {
    for (const prefix of prefixes) rules.push({ role, actions: "*", uri: prefix, match: "prefix", disclose: true });
  }
  rules.push(
    { role: tenantRole, actions: ["subscribe"], uri: "fediversity.events.{tenant}", match: "prefix" },
    { role: tenantRole, actions: ["subscribe"], uri: "fediversity.logs.{tenant}", match: "prefix" },
    { role: tenantRole, actions: ["call"], uri: "fediversity", match: "prefix", disclose: true },
  );
  return rules;
}
