/**
 * `npm run screenshots`: PNGs of each console page (sign-in, list, deployment with its graph, a
 * failed derivation's log, the submit form with its plan, the operator's view) at 1280×800 and at
 * phone width (390×844), written to screenshots/ (git-ignored). Runs a real service with the
 * example and e2e deployment types on a temp data dir, as the console tests do.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { launchChromium, signIn, startConsoleService } from "../test/console/console-harness.js";
import { freshSalt, repoRoot, waitForSync } from "../test/helpers/e2e-service.js";

const outDir = join(repoRoot, "screenshots");
const viewports = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const svc = await startConsoleService();
  const browser = await launchChromium();
  try {
    const acme = await svc.wamp("acme");
    const beta = await svc.wamp("beta");
    const config = { domain: `social-${freshSalt()}.example.org`, site_title: "Example Social", features: { streaming: true, search: true, sidekiq: true } };
    const ok = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", { deployment: "mastodon", configuration: config });
    const failing = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", { deployment: "broken", deployment_type: "e2e", configuration: { salt: freshSalt(), fail_build: true, lines: 5 } });
    await beta.call("fediversity.deployment.submit", { deployment: "photos", deployment_type: "pixelfed", configuration: { domain: `photos-${freshSalt()}.example.org` } });
    await waitForSync(acme, "mastodon", ok.sync.sync, undefined, { timeoutMs: 120_000 });
    await waitForSync(acme, "broken", failing.sync.sync, undefined, { timeoutMs: 120_000 });

    for (const vp of viewports) {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const shot = async (name: string, fullPage = true) => {
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(outDir, `${name}-${vp.name}.png`), fullPage });
      };
      await page.goto(`${svc.baseUrl}/`);
      await page.getByLabel("Authid").waitFor();
      await shot("login");
      await page.getByLabel("Authid").fill("acme-admin");
      await page.getByLabel("Ticket or secret").fill("wrong-ticket");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("Sign-in failed").waitFor();
      await shot("login-error");
      await signIn(page, svc.baseUrl, svc.principals.acme);
      await page.locator("table.deployments tbody tr").nth(1).waitFor();
      await shot("list");
      await page.goto(`${svc.baseUrl}/#/d/acme/mastodon`);
      await page.locator(".graph-svg .node").first().waitFor();
      await shot("deployment");
      await page.goto(`${svc.baseUrl}/#/d/acme/broken`);
      await page.getByRole("button", { name: "Show the log of the failed derivation" }).click();
      await page.locator("ol.log li", { hasText: "failing on purpose" }).waitFor();
      await shot("log");
      await page.goto(`${svc.baseUrl}/#/new?deployment=pixelfed`);
      await page.getByLabel("Deployment type").waitFor();
      await page.getByRole("button", { name: "Plan" }).click();
      await page.getByRole("heading", { name: /Plan for/ }).waitFor({ timeout: 60_000 });
      await shot("submit");
      await page.getByRole("button", { name: "Sign out" }).click();
      await signIn(page, svc.baseUrl, svc.principals.operator);
      await page.getByRole("heading", { name: "Queue and build cluster" }).waitFor();
      await page.locator("table.deployments tbody tr").nth(2).waitFor();
      await shot("operator");
      await context.close();
    }
    process.stdout.write(`screenshots written to ${outDir}\n`);
  } finally {
    await browser.close();
    await svc.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`screenshots failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
