/**
 * Serves the console on the service's HTTP listener: `/` (and `/index.html`) and the built files
 * under `/assets/<build key>/`. Files come from an in-memory map filled by the build, never from a
 * path on disk, so no request path can reach another file. Every other path answers 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { createConsoleAssets, type ConsoleAsset, type ConsoleAssetOptions } from "./console-assets.js";
import { cacheControlFor, contentTypeFor, pageHeaders, validateWorkerHeaders } from "./security-headers.js";

export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ConsoleHandlerOptions extends ConsoleAssetOptions {
  readonly logger?: Logger;
}

export function createConsoleHandler(options: ConsoleHandlerOptions = {}): ConsoleHandler {
  const assets = createConsoleAssets(options);
  return async (req, res) => {
    const path = requestPath(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", ...pageHeaders() }).end();
      return;
    }
    if (path === null || (path !== "/" && path !== "/index.html" && !path.startsWith("/assets/"))) {
      notFound(res);
      return;
    }
    let asset: ConsoleAsset | undefined;
    try {
      asset = (await assets()).files.get(path === "/index.html" ? "/" : path);
    } catch (err) {
      options.logger?.error({ err }, "console build failed");
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8", ...pageHeaders() }).end("The console could not be built; see the service log.\n");
      return;
    }
    if (!asset) {
      notFound(res);
      return;
    }
    send(req, res, asset);
  };
}

/** The decoded path without query, or null when it is not a plain absolute path. */
function requestPath(url: string | undefined): string | null {
  if (!url || !url.startsWith("/")) return null;
  const raw = url.split(/[?#]/, 1)[0] ?? "";
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null;
  }
  // The map lookup below is exact, so these could never match a file; refusing them early keeps
  // the rule obvious to a reader.
  if (path.includes("\0") || path.includes("\\") || path.split("/").some((s) => s === ".." || s === ".")) return null;
  return path;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...pageHeaders() }).end("Not found\n");
}

function send(req: IncomingMessage, res: ServerResponse, asset: ConsoleAsset): void {
  const headers: Record<string, string> = {
    "content-type": contentTypeFor(asset.path),
    "cache-control": cacheControlFor(asset.path),
    etag: asset.etag,
    vary: "accept-encoding",
    ...(asset.path.endsWith("/validate-worker.js") ? validateWorkerHeaders() : pageHeaders()),
  };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzip = asset.gzip !== null && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip && asset.gzip ? asset.gzip : asset.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}
