/**
 * Test-only harness of the console tests: the real service (store, local scheduler, evaluator,
 * local deployer, router, API, console) in this process on a temp data dir, with the example
 * deployment types (mastodon, pixelfed, peertube) and the e2e fixture types (whose builds can fail
 * or sleep on request) in one types file; and Debian's Chromium driven by playwright-core (no
 * browser download).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { parseServiceConfig } from "../../src/config.js";
import { startService, type RunningService } from "../../src/main.js";
import { connectWamp, makeE2eDir, repoRoot, type E2eDir, type Principal, type Wamp, type Who } from "../helpers/e2e-service.js";

export const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Flags for a closed network: nothing of Chromium's own calls home. */
const chromiumArgs = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, chromiumSandbox: false, args: chromiumArgs });
}

interface TypesDoc {
  deployment_types: Record<string, { entry: { file: string }; secrets?: Record<string, string> }>;
}

/** The example types and the e2e fixture types in one file, every path made absolute. */
export async function writeConsoleTypes(dir: string): Promise<string> {
  const out: TypesDoc = { deployment_types: {} };
  for (const [file, base] of [
    [join(repoRoot, "examples/deployment-types.json"), join(repoRoot, "examples")],
    [join(repoRoot, "test/fixtures/e2e/deployment-types.json"), join(repoRoot, "test/fixtures/e2e")],
  ] as const) {
    const doc = JSON.parse(await readFile(file, "utf8")) as TypesDoc;
    for (const [name, t] of Object.entries(doc.deployment_types)) {
      if (!isAbsolute(t.entry.file)) t.entry.file = join(base, t.entry.file);
      if (t.secrets) t.secrets = Object.fromEntries(Object.entries(t.secrets).map(([k, v]) => [k, isAbsolute(v) ? v : join(base, v)]));
      out.deployment_types[name] = t;
    }
  }
  await mkdir(dir, { recursive: true });
  const path = join(dir, "console-types.json");
  await writeFile(path, JSON.stringify({ version: 1, ...out }, null, 2));
  return path;
}

export interface ConsoleService {
  readonly dir: E2eDir;
  readonly service: RunningService;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly principals: Record<Who, Principal>;
  wamp(who: Who): Promise<Wamp>;
  stop(): Promise<void>;
}

export async function startConsoleService(): Promise<ConsoleService> {
  const dir = await makeE2eDir();
  const typesPath = await writeConsoleTypes(dir.dir);
  const service = await startService(
    parseServiceConfig(["--data-dir", dir.dataDir, "--principals", dir.principalsPath, "--deployment-types", typesPath, "--listen", "127.0.0.1:0", "--log-level", "error"], {}),
  );
  const sessions: Wamp[] = [];
  return {
    dir,
    service,
    baseUrl: service.httpUrl,
    principals: dir.principals,
    async wamp(who) {
      const w = await connectWamp(service.url, dir.principals[who]);
      sessions.push(w);
      return w;
    },
    async stop() {
      for (const w of sessions) await w.close().catch(() => undefined);
      await service.stop();
      await dir.remove();
    },
  };
}

/** Signs in through the form, with the keyboard only. */
export async function signIn(page: Page, baseUrl: string, principal: { authid: string; ticket: string }, hash = "#/"): Promise<void> {
  await page.goto(`${baseUrl}/${hash}`);
  await page.getByLabel("Authid").fill(principal.authid);
  await page.keyboard.press("Tab");
  await page.keyboard.type(principal.ticket);
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Content-Security-Policy violations and page errors seen on a page (each one fails the test file). */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(text)) problems.push(`console: ${text}`);
  });
  return problems;
}
