/**
 * The console's built files: esbuild bundles the browser code (src/console/browser/) on the first
 * request that needs it, not at service start (tests start many services that never serve a page).
 * The result is cached on disk under a key hashed from every browser source file and the versions of
 * the bundled packages, so only the first request after a change of the console pays for a build
 * (~1 s); every later service start reads the cached files.
 */
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { AppError } from "../errors.js";

export interface ConsoleAsset {
  /** URL path, e.g. `/assets/3f2a…/app.js`. */
  readonly path: string;
  readonly body: Buffer;
  /** Present when gzip makes it smaller. */
  readonly gzip: Buffer | null;
  readonly etag: string;
}

export interface ConsoleAssets {
  /** Build key: changes whenever a source or a bundled package changes. */
  readonly key: string;
  readonly files: ReadonlyMap<string, ConsoleAsset>;
}

export interface ConsoleAssetOptions {
  /** Browser sources; default src/console/browser beside this file. */
  readonly sourceDir?: string;
  /** Where built files are cached; default node_modules/.cache/fediversity-console; null: memory only. */
  readonly cacheDir?: string | null;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..");
const require = createRequire(import.meta.url);
/** Packages whose code ends up in the built files: their versions are part of the build key. */
const bundledPackages = ["esbuild", "autobahn-browser", "elkjs", "ajv"];

/** Files a build writes, relative to `/assets/<key>/` (index.html is served at `/`). */
const builtNames = ["index.html", "app.js", "app.css", "validate-worker.js", "elk-worker.js"] as const;

export function createConsoleAssets(options: ConsoleAssetOptions = {}): () => Promise<ConsoleAssets> {
  const sourceDir = options.sourceDir ?? join(here, "browser");
  const cacheDir = options.cacheDir === undefined ? join(repoRoot, "node_modules", ".cache", "fediversity-console") : options.cacheDir;
  let pending: Promise<ConsoleAssets> | null = null;
  return () => {
    // One build per process; a failed one is tried again on the next request.
    pending ??= load(sourceDir, cacheDir).catch((err: unknown) => {
      pending = null;
      throw err;
    });
    return pending;
  };
}

async function load(sourceDir: string, cacheDir: string | null): Promise<ConsoleAssets> {
  const key = await buildKey(sourceDir);
  const cached = cacheDir ? await readCached(join(cacheDir, key)) : null;
  const contents = cached ?? (await build(sourceDir, key));
  if (!cached && cacheDir) await writeCached(cacheDir, key, contents);
  const files = new Map<string, ConsoleAsset>();
  for (const name of builtNames) {
    const body = contents.get(name);
    if (!body) throw new AppError("internal", `console build lacks ${name}`);
    const path = name === "index.html" ? "/" : `/assets/${key}/${name}`;
    const gz = gzipSync(body, { level: 6 });
    files.set(path, { path, body, gzip: gz.length < body.length ? gz : null, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` });
  }
  return { key, files };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

async function buildKey(sourceDir: string): Promise<string> {
  const h = createHash("sha256");
  for (const file of await listFiles(sourceDir)) {
    h.update(relative(sourceDir, file)).update("\0").update(await readFile(file)).update("\0");
  }
  for (const pkg of bundledPackages) {
    const version = (JSON.parse(await readFile(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string }).version;
    h.update(`${pkg}@${version}\0`);
  }
  return h.digest("hex").slice(0, 16);
}

async function readCached(dir: string): Promise<Map<string, Buffer> | null> {
  try {
    const out = new Map<string, Buffer>();
    for (const name of builtNames) out.set(name, await readFile(join(dir, name)));
    return out;
  } catch {
    return null;
  }
}

/** Written to a private temp dir, then renamed: concurrent services never see half a build. */
async function writeCached(cacheDir: string, key: string, contents: ReadonlyMap<string, Buffer>): Promise<void> {
  const tmp = join(cacheDir, `.tmp-${key}-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(tmp, { recursive: true });
    for (const [name, body] of contents) await writeFile(join(tmp, name), body);
    await rename(tmp, join(cacheDir, key));
  } catch {
    // Another process won the rename, or the cache is not writable: the files are served from memory.
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function build(sourceDir: string, key: string): Promise<Map<string, Buffer>> {
  // Imported here, not at the top: a service that never serves the console never loads esbuild.
  const esbuild = await import("esbuild");
  const common: import("esbuild").BuildOptions = {
    bundle: true,
    write: false,
    minify: true,
    platform: "browser",
    target: ["chrome110", "firefox115", "safari16"],
    legalComments: "none",
    logLevel: "silent",
  };
  const out = new Map<string, Buffer>();
  const take = (result: { outputFiles?: { path: string; contents: Uint8Array }[] }, name: string, ext: string) => {
    const file = result.outputFiles?.find((f) => f.path.endsWith(ext));
    if (!file) throw new AppError("internal", `esbuild produced no ${ext} for ${name}`);
    out.set(name, Buffer.from(file.contents));
  };
  try {
    const app = await esbuild.build({ ...common, entryPoints: [join(sourceDir, "main.ts")], format: "esm", outfile: "app.js" });
    take(app, "app.js", ".js");
    const css = await esbuild.build({ ...common, entryPoints: [join(sourceDir, "console.css")], outfile: "app.css" });
    take(css, "app.css", ".css");
    const worker = await esbuild.build({ ...common, entryPoints: [join(sourceDir, "validate-worker.ts")], format: "iife", outfile: "validate-worker.js" });
    take(worker, "validate-worker.js", ".js");
  } catch (err) {
    throw new AppError("internal", `console build failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  out.set("elk-worker.js", await readFile(require.resolve("elkjs/lib/elk-worker.min.js")));
  const html = (await readFile(join(sourceDir, "index.html"), "utf8")).replaceAll("{{assets}}", `/assets/${key}`);
  out.set("index.html", Buffer.from(html));
  return out;
}
