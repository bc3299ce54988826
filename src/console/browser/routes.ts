/**
 * The console's places, kept in the URL fragment so reload and links work (never a credential):
 * `#/` deployments, `#/d/<tenant>/<deployment>[/<sync>]` one deployment, `#/new?…` the submit form.
 */

export type Route =
  | { readonly page: "list" }
  | { readonly page: "deployment"; readonly tenant: string; readonly deployment: string; readonly sync: string | null }
  | { readonly page: "new"; readonly tenant: string | null; readonly deployment: string | null; readonly type: string | null }
  | { readonly page: "unknown"; readonly hash: string };

const name = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const syncId = /^[0-9A-Za-z-]{1,64}$/;

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  // In-page anchors such as the skip link (`#main`) are not places.
  if (!raw.startsWith("/")) return { page: "list" };
  const [path = "", query = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(safeDecode);
  if (parts.length === 0) return { page: "list" };
  if (parts[0] === "d" && (parts.length === 3 || parts.length === 4)) {
    const [, tenant = "", deployment = "", sync] = parts;
    if (name.test(tenant) && name.test(deployment) && (sync === undefined || syncId.test(sync))) {
      return { page: "deployment", tenant, deployment, sync: sync ?? null };
    }
  }
  if (parts[0] === "new" && parts.length === 1) {
    const q = new URLSearchParams(query);
    const pick = (k: string) => {
      const v = q.get(k);
      return v !== null && name.test(v) ? v : null;
    };
    return { page: "new", tenant: pick("tenant"), deployment: pick("deployment"), type: pick("type") };
  }
  return { page: "unknown", hash: raw };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return "";
  }
}

export function deploymentHref(tenant: string, deployment: string, sync?: string | null): string {
  return `#/d/${encodeURIComponent(tenant)}/${encodeURIComponent(deployment)}${sync ? `/${encodeURIComponent(sync)}` : ""}`;
}

export function newHref(opts: { tenant?: string | null; deployment?: string | null; type?: string | null } = {}): string {
  const q = new URLSearchParams();
  if (opts.tenant) q.set("tenant", opts.tenant);
  if (opts.deployment) q.set("deployment", opts.deployment);
  if (opts.type) q.set("type", opts.type);
  const s = q.toString();
  return s ? `#/new?${s}` : "#/new";
}
