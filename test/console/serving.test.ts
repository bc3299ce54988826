/**
 * The console's HTTP side on a real service: the page and its files with the right content types,
 * a strict Content-Security-Policy, cache headers and ETags; no path reaches any other file
 * (traversal attempts, encoded or not); /healthz, /metrics and the WAMP endpoint at /ws unchanged.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleService, type ConsoleService } from "./console-harness.js";

let svc: ConsoleService;
beforeAll(async () => {
  svc = await startConsoleService();
}, 60_000);
afterAll(async () => {
  await svc?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path goes on the wire exactly as given (fetch would normalise `..`). */
function get(path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(svc.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: opts.method ?? "GET", headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

function assetPaths(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
}

describe("console assets", () => {
  it("serves the page with a strict CSP, no inline script, and no-cache", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-cache");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    const html = res.body.toString();
    // Every script is an external file of our own; no inline handler or style.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/);
    expect(assetPaths(html)).toHaveLength(2);
    expect((await get("/index.html")).body.equals(res.body)).toBe(true);
  });

  it("serves each built file with its content type, an immutable cache header and an ETag", async () => {
    const html = (await get("/")).body.toString();
    const [js, css] = [assetPaths(html).find((p) => p.endsWith("/app.js")), assetPaths(html).find((p) => p.endsWith("/app.css"))];
    expect(js && css).toBeTruthy();
    const base = (js as string).slice(0, -"app.js".length);
    const expected: Record<string, string> = {
      "app.js": "text/javascript; charset=utf-8",
      "app.css": "text/css; charset=utf-8",
      "elk-worker.js": "text/javascript; charset=utf-8",
      "validate-worker.js": "text/javascript; charset=utf-8",
    };
    for (const [name, type] of Object.entries(expected)) {
      const res = await get(`${base}${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers["content-type"], name).toBe(type);
      expect(res.headers["cache-control"], name).toBe("public, max-age=31536000, immutable");
      expect(res.body.length, name).toBeGreaterThan(100);
      const etag = String(res.headers["etag"]);
      const again = await get(`${base}${name}`, { headers: { "if-none-match": etag } });
      expect(again.status, name).toBe(304);
      expect(again.body.length).toBe(0);
    }
    // Only the validation worker may eval (ajv compiles schemas), and nothing else.
    const worker = await get(`${base}validate-worker.js`);
    expect(String(worker.headers["content-security-policy"])).toBe("default-src 'none'; script-src 'self' 'unsafe-eval'");
    expect(String((await get(`${base}app.js`)).headers["content-security-policy"])).not.toContain("unsafe-eval");
    // gzip when asked, the same bytes once inflated.
    const gz = await get(`${base}app.js`, { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    const { gunzipSync } = await import("node:zlib");
    expect(gunzipSync(gz.body).equals((await get(`${base}app.js`)).body)).toBe(true);
    // HEAD: headers only.
    const head = await get(`${base}app.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it("answers 404 to traversal attempts and unknown paths, never with a file", async () => {
    const html = (await get("/")).body.toString();
    const base = (assetPaths(html)[0] as string).replace(/[^/]+$/, "");
    const attempts = [
      "/../package.json",
      "/assets/../package.json",
      `${base}../../package.json`,
      `${base}..%2f..%2fpackage.json`,
      "/assets/%2e%2e/%2e%2e/package.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..\\..\\package.json",
      "/assets/%00",
      "/assets/%zz",
      "/src/console/browser/main.ts",
      "/node_modules/elkjs/package.json",
      "/package.json",
      "/.git/config",
      `${base}`,
      "/assets/0000000000000000/app.js",
      "//etc/passwd",
    ];
    for (const path of attempts) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString(), path).toBe("Not found\n");
    }
  });

  it("refuses other methods and keeps /healthz, /metrics and the WAMP endpoint", async () => {
    const post = await get("/", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers["allow"]).toBe("GET, HEAD");
    const health = await get("/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: "ok" });
    expect((await get("/metrics")).body.toString()).toContain("fediversity_wamp_sessions");
    const w = await svc.wamp("acme");
    expect(await w.call("fediversity.deployment.list")).toMatchObject({ deployments: [] });
  });
});
