/**
 * The console in a real browser (Debian's Chromium, driven by playwright-core) against a real
 * service: sign-in, the schema form, a live graph, a failed derivation's log, cancel, tenant
 * isolation, the operator's and the panel's views. One browser and one service for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { freshSalt, waitForSync, type Wamp } from "../helpers/e2e-service.js";
import { launchChromium, signIn, startConsoleService, watchPageProblems, type ConsoleService } from "./console-harness.js";

let svc: ConsoleService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let acme: Wamp;
let beta: Wamp;
const problems: string[] = [];

/** Everything the page keeps in web storage, as one string (the test runs in Node: no DOM types). */
function storedText(p: Page): Promise<string> {
  return p.evaluate(() => {
    const g = globalThis as unknown as { localStorage: Record<string, string>; sessionStorage: Record<string, string> };
    return JSON.stringify({ ...g.localStorage }) + JSON.stringify({ ...g.sessionStorage });
  });
}

beforeAll(async () => {
  [svc, browser] = await Promise.all([startConsoleService(), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  const seen = watchPageProblems(page);
  afterAllChecks.push(() => problems.push(...seen));
  [acme, beta] = await Promise.all([svc.wamp("acme"), svc.wamp("beta")]);
}, 60_000);

const afterAllChecks: (() => void)[] = [];
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

async function nodeClasses(p: Page): Promise<Record<string, string>> {
  return p.$$eval(".graph-svg g[data-drv]", (gs) =>
    Object.fromEntries(gs.map((g) => [g.querySelector("text")?.textContent?.slice(2) ?? "", g.getAttribute("class") ?? ""])),
  );
}

describe.sequential("the console in Chromium", () => {
  it("a wrong ticket shows a clear message and signs nobody in", async () => {
    await page.goto(`${svc.baseUrl}/`);
    await page.getByLabel("Authid").fill(svc.principals.acme.authid);
    await page.getByLabel("Ticket or secret").fill("0123456789abcdef-not-the-ticket");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Sign-in failed: the service did not accept this authid and ticket");
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    // Nothing secret is kept by the page: not in the URL, not in any storage.
    expect(page.url()).not.toContain("not-the-ticket");
    expect(await storedText(page)).not.toContain("not-the-ticket");
  });

  it("signs in with the keyboard, submits mastodon from the schema form, and shows every node built and the deployment active", { timeout: 180_000 }, async () => {
    await signIn(page, svc.baseUrl, svc.principals.acme);
    expect(await storedText(page)).not.toContain(svc.principals.acme.ticket);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New deployment" }).click();
    await page.getByLabel("Deployment type").selectOption("mastodon");
    // Prefilled with the schema's examples[0].
    const domain = page.getByLabel("domain (required)");
    await expect.poll(() => domain.inputValue()).toBe("social.example.org");
    await page.getByLabel("Deployment name (required)").fill("mastodon");
    // ajv in the browser (its worker) flags a bad domain on the field itself.
    await domain.fill("not a domain");
    await expect.poll(() => domain.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#cfg-configuration-domain-error").textContent()).toMatch(/must match pattern/);
    await domain.fill(`social-${freshSalt()}.example.org`);
    await expect.poll(() => domain.getAttribute("aria-invalid")).toBeNull();
    const submit = page.getByRole("button", { name: /^Submit/ });
    expect(await submit.isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Plan" }).click();
    await page.getByRole("heading", { name: "Plan for mastodon" }).waitFor({ timeout: 90_000 });
    expect(await page.locator(".plan").textContent()).toMatch(/\d+ to build/);
    await page.getByRole("button", { name: "Submit to mastodon" }).click();
    await page.waitForURL(/#\/d\/acme\/mastodon$/);
    await page.locator(".graph-svg g[data-drv]").first().waitFor({ timeout: 90_000 });
    await expect
      .poll(async () => (await page.locator("#deployment-state").textContent())?.trim(), { timeout: 90_000 })
      .toBe("active");
    // Every node built or cached; what depends on this configuration was built by this sync.
    await expect
      .poll(async () => Object.entries(await nodeClasses(page)).filter(([, c]) => !/st-(built|cached)/.test(c)), { timeout: 20_000 })
      .toEqual([]);
    const classes = await nodeClasses(page);
    expect(Object.keys(classes)).toEqual(expect.arrayContaining(["mastodon", "mastodon-config", "mastodon-proxy-config"]));
    for (const name of ["mastodon", "mastodon-config", "mastodon-proxy-config"]) expect(classes[name], name).toContain("st-built");
    expect(await page.locator(".timeline .phase-succeeded").count()).toBe(1);
    expect(await page.locator("#critical-path").textContent()).toContain("Nothing left to build");
    // The deploy output follows the build.
    await expect.poll(() => page.locator(".logs ol.log").nth(1).textContent()).toContain("mastodon activated");
  });

  it("opens a failed derivation's log from the graph", { timeout: 120_000 }, async () => {
    const r = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", {
      deployment: "broken",
      deployment_type: "e2e",
      configuration: { salt: freshSalt(), fail_build: true, lines: 4 },
    });
    expect(await waitForSync(acme, "broken", r.sync.sync, undefined, { timeoutMs: 90_000 })).toBe("failed");
    await page.goto(`${svc.baseUrl}/#/d/acme/broken`);
    const failed = page.locator(".graph-svg g.st-failed");
    await failed.waitFor();
    await failed.click();
    await expect.poll(() => page.locator("#log-title").textContent()).toBe("Build log of e2e-part");
    await expect.poll(() => page.locator(".logs ol.log").first().textContent()).toContain("e2e-part: failing on purpose");
    const lines = await page.locator(".logs ol.log").first().locator("li").allTextContents();
    expect(lines).toEqual(["e2e line 0", "e2e line 1", "e2e line 2", "e2e line 3", "e2e-part: failing on purpose"]);
    expect(await page.locator(".sync .error-box").textContent()).toContain("build failed");
    expect(await page.locator(".logs").textContent()).toContain("failed before deploying");
  });

  it("cancels a running sync after confirmation", { timeout: 120_000 }, async () => {
    const r = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", {
      deployment: "slow",
      deployment_type: "e2e",
      configuration: { salt: freshSalt(), build_sleep_secs: 90 },
    });
    await waitForSync(acme, "slow", r.sync.sync, ["building"], { timeoutMs: 90_000 });
    await page.goto(`${svc.baseUrl}/#/d/acme/slow`);
    await page.locator(".graph-svg g.st-running").waitFor({ timeout: 60_000 });
    const cancel = page.getByRole("button", { name: "Cancel sync…" });
    // Declining changes nothing.
    await cancel.click();
    await page.getByRole("dialog").getByRole("button", { name: "Keep as it is" }).click();
    expect(await acme.call<{ current: { sync: string } | null }>("fediversity.deployment.get", { deployment: "slow" })).toMatchObject({ current: { sync: r.sync.sync } });
    await cancel.click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel syncs" }).click();
    await expect.poll(() => page.locator(".ok-box").textContent()).toContain("Cancelled 1 sync");
    expect(await waitForSync(acme, "slow", r.sync.sync, undefined, { timeoutMs: 30_000 })).toBe("cancelled");
    await page.locator(".timeline .phase-cancelled").waitFor();
  });

  it("a tenant neither sees nor opens another tenant's deployment, also by typing its URL", { timeout: 120_000 }, async () => {
    const r = await beta.call<{ sync: { sync: string } }>("fediversity.deployment.submit", { deployment: "betasecret", deployment_type: "e2e", configuration: { salt: freshSalt() } });
    await waitForSync(beta, "betasecret", r.sync.sync, undefined, { timeoutMs: 90_000 });
    await page.goto(`${svc.baseUrl}/#/`);
    await page.locator("table.deployments tbody tr").first().waitFor();
    await expect.poll(() => page.locator("table.deployments tbody").textContent()).toContain("mastodon");
    expect(await page.locator("main").textContent()).not.toContain("betasecret");
    await page.goto(`${svc.baseUrl}/#/d/beta/betasecret`);
    await page.getByRole("heading", { name: "Deployment not found" }).waitFor();
    expect(await page.locator("main").textContent()).toContain("There is no deployment “betasecret” of tenant “beta” that you may see.");
    expect(await page.locator(".graph-svg g[data-drv]").count()).toBe(0);
    expect(await page.locator("ol.log li").count()).toBe(0);
    // A sync id of beta's in the URL does not help either.
    await page.goto(`${svc.baseUrl}/#/d/beta/betasecret/${r.sync.sync}`);
    await page.getByRole("heading", { name: "Deployment not found" }).waitFor();
  });

  it("lists the deployment's history newest first and opens an older sync", { timeout: 120_000 }, async () => {
    const first = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", { deployment: "hist", deployment_type: "e2e", configuration: { salt: freshSalt() } });
    await waitForSync(acme, "hist", first.sync.sync, undefined, { timeoutMs: 90_000 });
    const second = await acme.call<{ sync: { sync: string } }>("fediversity.deployment.submit", { deployment: "hist", deployment_type: "e2e", configuration: { salt: freshSalt() } });
    await waitForSync(acme, "hist", second.sync.sync, undefined, { timeoutMs: 90_000 });
    await page.goto(`${svc.baseUrl}/#/d/acme/hist`);
    const rows = page.locator(".history tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).locator("a").getAttribute("title")).toBe(second.sync.sync);
    expect(await rows.nth(1).locator("a").getAttribute("title")).toBe(first.sync.sync);
    await rows.nth(1).locator("a").click();
    await page.waitForURL(new RegExp(`#/d/acme/hist/${first.sync.sync}$`));
    await expect.poll(() => page.locator("#sync-title").textContent()).toContain(first.sync.sync.slice(-8));
    await page.locator(".graph-svg g.st-built").first().waitFor();
  });

  it("shows an operator every tenant, the queue and rio's ClusterStatus; the panel picks a tenant", { timeout: 60_000 }, async () => {
    const ctx2 = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p2 = await ctx2.newPage();
    const seen = watchPageProblems(p2);
    try {
      await signIn(p2, svc.baseUrl, svc.principals.operator);
      await p2.getByRole("heading", { name: "Queue and build cluster" }).waitFor();
      await expect.poll(() => p2.locator(".card").first().textContent()).toContain("total executors");
      await expect.poll(() => p2.locator("table.deployments").textContent()).toContain("betasecret");
      expect(await p2.locator("table.deployments").textContent()).toContain("mastodon");
      await p2.getByRole("button", { name: "Sign out" }).click();

      await signIn(p2, svc.baseUrl, svc.principals.panel);
      await p2.getByText("Pick a tenant to act for").waitFor();
      expect(await p2.getByRole("heading", { name: "Queue and build cluster" }).count()).toBe(0);
      await p2.getByLabel("Act for tenant").fill("beta");
      await p2.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => p2.locator("#who").textContent()).toContain("acting for beta");
      await expect.poll(() => p2.locator("table.deployments tbody").textContent()).toContain("betasecret");
      expect(await p2.locator("table.deployments tbody").textContent()).not.toContain("mastodon");
      expect(await p2.getByRole("link", { name: "New deployment" }).last().getAttribute("href")).toBe("#/new?tenant=beta");
    } finally {
      problems.push(...seen);
      await ctx2.close();
    }
  });

  it("ran without a Content-Security-Policy violation or a script error", () => {
    for (const check of afterAllChecks) check();
    expect(problems).toEqual([]);
  });
});
