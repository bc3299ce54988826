/**
 * Response headers of the console: content types, caching, and a strict Content-Security-Policy.
 *
 * The page may run only its own scripts and styles (no inline script or style, no eval), talk only
 * to its own origin (the WAMP WebSocket at /ws), start workers only from its own origin, and be
 * framed by nobody. One exception, kept as narrow as the browser allows: ajv compiles a JSON Schema
 * into a function with `new Function`, which needs 'unsafe-eval'. That code runs in a dedicated
 * worker (validate-worker.js) whose own policy allows eval but nothing else: no network, no
 * imports, no DOM; it receives a schema and a value and answers a list of errors.
 */

const pagePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const validateWorkerPolicy = ["default-src 'none'", "script-src 'self' 'unsafe-eval'"].join("; ");

const common: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export function pageHeaders(): Record<string, string> {
  return { ...common, "content-security-policy": pagePolicy };
}

export function validateWorkerHeaders(): Record<string, string> {
  return { ...common, "content-security-policy": validateWorkerPolicy };
}

const types: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
};

export function contentTypeFor(path: string): string {
  if (path === "/") return types["html"] ?? "text/html";
  const ext = /\.([a-z0-9]+)$/.exec(path)?.[1] ?? "";
  return types[ext] ?? "application/octet-stream";
}

/** The page itself is revalidated every time; files under a build key never change. */
export function cacheControlFor(path: string): string {
  return path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
}
