/**
 * Composition root: `serve` wires config → store → evaluator → rio (or the local scheduler) →
 * deployers → runner → router → API; `scheduler` runs the local rio-compatible scheduler alone;
 * every other command is the CLI, a WAMP client like any other.
 */
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pino } from "pino";
import { startComponent } from "./api/component.js";
import { toWampError } from "./api/wamp-errors.js";
import { createAuthorizer } from "./api/authorize.js";
import { ensurePrincipalsFile } from "./api/demo-principals.js";
import { createPrincipalAuthenticator } from "./api/principal-authenticator.js";
import { runCli } from "./cli/index.js";
import { createConsoleHandler } from "./console/index.js";
import { parseServiceConfig, type ServiceConfig } from "./config.js";
import { createDeployer, type Deployer } from "./deploy/index.js";
import { AppError } from "./errors.js";
import { copyInputsToStore, createEvaluator, loadDeploymentTypes, type DeploymentType } from "./eval/index.js";
import { createServiceMetrics } from "./metrics.js";
import { createRioClient } from "./rio/index.js";
import { createRouter, loadPrincipalsFile, type LocalSession, type Router } from "./router/index.js";
import { createDeploymentService } from "./service/index.js";
import { createRunner } from "./runner/runner.js";
import { createLocalScheduler, runSchedulerCommand, type LocalScheduler } from "./scheduler/index.js";
import { openStore } from "./store/index.js";
import { createAddressPolicy, createDeliveryWorker, createHttpSender, createSecretBox, loadOrCreateKeyFile } from "./webhooks/index.js";

/** Secret-bearing fields never printed by the logger, wherever they appear. */
const redactPaths = ["ticket", "secret", "*.ticket", "*.secret", "password", "*.password", "token", "*.token"];

export interface RunningService {
  readonly url: string;
  readonly httpUrl: string;
  readonly config: ServiceConfig;
  stop(): Promise<void>;
}

export async function startService(config: ServiceConfig): Promise<RunningService> {
  const logger = pino({ level: config.logLevel, redact: { paths: redactPaths, censor: "[REDACTED]" } });
  await mkdir(config.dataDir, { recursive: true });
  const metrics = createServiceMetrics();

  const store = openStore({
    path: config.databasePath,
    limits: config.limits,
    retention: {
      syncsSecs: config.retention.terminalSyncDays * 86_400,
      eventsSecs: config.retention.eventDays * 86_400,
      logsSecs: config.retention.terminalSyncDays * 86_400,
    },
  });
  // Terminal syncs, events and logs past retention go in an explicit, periodic sweep.
  const sweep = setInterval(() => {
    try {
      store.sweepRetention();
    } catch {
      // Retried at the next tick; a sweep failure loses nothing.
    }
  }, 3_600_000);
  sweep.unref();
  store.onCommit((batch) => metrics.eventsStored.inc(batch.events.length));
  metrics.setSyncCountSource(() => store.queueCounts());

  const deploymentTypes = await loadDeploymentTypes(config.deploymentTypesPath);
  const evaluator = createEvaluator({ logger, gcRootsDir: join(config.dataDir, "gcroots") });

  let scheduler: LocalScheduler | null = null;
  let rioUrl = config.rioUrl;
  if (!rioUrl) {
    scheduler = await createLocalScheduler({
      listen: `${config.localScheduler.host}:${config.localScheduler.port}`,
      statePath: join(config.dataDir, "scheduler.sqlite"),
      maxJobs: config.localScheduler.maxJobs,
    });
    rioUrl = scheduler.url;
  }
  const rio = createRioClient({
    url: rioUrl,
    ...(config.rioTenantToken ? { tenantToken: config.rioTenantToken } : {}),
    logger,
    hooks: { onReattach: () => metrics.rioReattaches.inc() },
  });

  const deployers = new Map<string, Deployer>();
  const deployerFor = (type: DeploymentType): Deployer => {
    let d = deployers.get(type.name);
    if (!d) {
      d = createDeployer(type.deployer, { stateDir: config.dataDir, ...(config.rioStoreUrl ? { storeUrl: config.rioStoreUrl } : {}), logger });
      deployers.set(type.name, d);
    }
    return d;
  };
  const knownTenants = new Set<string>();
  const ensureTenant = async (tenant: string): Promise<void> => {
    if (knownTenants.has(tenant)) return;
    try {
      await rio.tenants.resolve(tenant);
    } catch (err) {
      if (!AppError.is(err, "invalid_argument")) throw err;
      await rio.tenants.create({ name: tenant }).catch((e: unknown) => {
        if (!AppError.is(e, "conflict")) throw e;
      });
    }
    knownTenants.add(tenant);
  };
  const runner = createRunner({
    store,
    evaluator,
    rio,
    deploymentType: (name) => {
      const t = deploymentTypes.get(name);
      if (!t) throw new AppError("internal", `deployment type ${name} is no longer configured`);
      return t;
    },
    deployerFor,
    ensureTenant,
    ...(config.rioUrl && config.rioStoreUrl
      ? {
          copyInputs: async (dag, tenant, signal) => {
            await copyInputsToStore(dag, { storeUrl: config.rioStoreUrl ?? "", tenant, signal });
          },
        }
      : {}),
    timeouts: { evalMs: config.timeouts.evalSecs * 1000, buildMs: config.timeouts.buildSecs * 1000, deployMs: config.timeouts.deploySecs * 1000 },
    concurrency: config.concurrency,
    logger,
    metrics,
  });
  // Webhooks: secrets sealed under the operator's key file; the delivery loop reads the outbox that
  // the store fills in the transactions that store events.
  const secretBox = createSecretBox(loadOrCreateKeyFile(config.webhooks.keyFile));
  const addressPolicy = createAddressPolicy({ allowPrivate: config.webhooks.allowPrivate });
  const webhookSender = createHttpSender({ policy: addressPolicy, timeoutMs: config.webhooks.timeoutMs });
  const deliveries = createDeliveryWorker({
    queue: { claim: (input) => store.claimDeliveries(input), record: (outcomes) => store.recordDeliveryOutcomes(outcomes), nextDueAt: () => store.nextDeliveryDueAt() },
    sender: webhookSender,
    openSecret: (webhook, sealed) => secretBox.open(webhook, sealed),
    schedule: config.webhooks.retry,
    timeoutMs: config.webhooks.timeoutMs,
    concurrency: config.webhooks.concurrency,
    logger: logger.child({ component: "webhooks" }),
    onRecorded: (outcomes) => {
      for (const o of outcomes) metrics.webhookAttempts.inc({ outcome: o.outcome });
    },
  });
  // A commit that stored events may have stored deliveries; when it did not, the loop's look is one indexed read.
  store.onCommit((batch) => {
    if (batch.events.length > 0) deliveries.notify();
  });
  const service = createDeploymentService({
    store,
    runner,
    evaluator,
    rio,
    deploymentTypes,
    evalTimeoutMs: config.timeouts.evalSecs * 1000,
    webhooks: { policy: addressPolicy, secrets: secretBox },
  });

  const serveConsole = createConsoleHandler({ logger });
  const http = createServer((req, res) => void serveHttp(req, res));
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", running: runner.running().length }));
    } else if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
    } else if (!req.headers.upgrade) {
      await serveConsole(req, res);
    }
  }

  let router: Router | null = null;
  let wamp: { url: string; authid?: string; ticket?: string };
  let localSession: LocalSession | null = null;
  const listening = new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.listen.port, config.listen.host, () => resolve());
  });
  if (!config.routerUrl) {
    const demo = await ensurePrincipalsFile(config.principalsPath);
    router = createRouter({
      realms: [config.realm],
      principals: config.principalsPath,
      // Tenant topics are `fediversity.events.<tenant>.<deployment>`: prefixes must stop at dots
      // so that a prefix subscription of tenant `acme` never matches tenant `acme2`.
      prefixMatching: "segment",
      authorizer: createAuthorizer({ allowBareTenantPrefix: true }),
      ...(config.allowAnonymous ? { anonymous: { role: "anonymous" } } : {}),
      // Clients wait in their handshake until the API below has registered: none sees no_such_procedure.
      holdUntilAdmitted: true,
      // A call whose payload the router refuses (nested too deep, say) fails as the contract says.
      callPayloadError: (problem) => {
        const e = toWampError(problem);
        return { uri: e.uri, args: e.args, kwargs: { ...e.kwargs } };
      },
      logger,
    });
    router.attach(http, { path: config.wsPath });
    metrics.setSessionCountSource(() => router?.sessionCount() ?? 0);
    await listening;
    const addr = http.address();
    const port = typeof addr === "object" && addr ? addr.port : config.listen.port;
    // The API joins in-process: no connection, no credential, and it can be interrupted.
    localSession = router.openLocalSession({ realm: config.realm, authid: "fediversity-deploy" });
    wamp = { url: `ws://${hostForUrl(config.listen.host)}:${port}${config.wsPath}` };
    if (demo.created) printDemo(wamp.url, config, demo.principals ?? []);
  } else {
    await listening;
    if (!config.routerAuth) throw new AppError("invalid_argument", "component mode needs --router-authid and --router-ticket");
    wamp = { url: config.routerUrl, ...config.routerAuth };
  }

  const embedded = router;
  const component = startComponent({
    ...wamp,
    ...(localSession ? { localSession } : {}),
    realm: config.realm,
    service,
    limits: { maxConfigurationBytes: config.limits.maxConfigurationBytes },
    logger,
    ...(embedded
      ? {
          lookupSession: async (id: number) => {
            const s = embedded.getSession(id);
            return s ? { authid: s["authid"] as string, authrole: s["authrole"] as string, authextra: (s["authextra"] ?? null) as Record<string, unknown> | null } : null;
          },
        }
      : {}),
    ...(config.registerAuthorizer ? { authorizerUri: config.registerAuthorizer } : {}),
    ...(config.registerAuthenticator
      ? { authenticator: { uri: config.registerAuthenticator, authenticate: createPrincipalAuthenticator(loadPrincipalsFile(config.principalsPath)) } }
      : {}),
    allowBareTenantPrefix: embedded !== null,
    ...(embedded ? { publishLocally: (topic: string, args: readonly unknown[]) => embedded.publishLocal(config.realm, topic, args) } : {}),
    onPublished: (n) => metrics.eventsPublished.inc(n),
    follows: metrics.logFollows,
  });
  await component.ready;
  router?.admit();
  await runner.start();
  deliveries.start();

  const addr = http.address();
  const httpPort = typeof addr === "object" && addr ? addr.port : config.listen.port;
  logger.info({ wamp: wamp.url, scheduler: rioUrl, data: config.dataDir }, "fediversity-deploy is running");
  return {
    url: wamp.url,
    httpUrl: `http://${hostForUrl(config.listen.host)}:${httpPort}`,
    config,
    async stop() {
      clearInterval(sweep);
      await runner.stop();
      // Attempts in flight finish (each within its deadline) and are recorded before the store closes.
      await deliveries.stop();
      webhookSender.close();
      // Clients get a clean GOODBYE (and reconnect) rather than no_such_procedure while the API leaves.
      router?.dismissClients();
      await component.close();
      await router?.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      service.close();
      rio.close();
      await scheduler?.close();
      store.close();
      logger.info("fediversity-deploy stopped");
    },
  };
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function printDemo(url: string, config: ServiceConfig, principals: readonly { authid: string; role: string; tenant?: string }[]): void {
  // Tickets are credentials: they stay in the file (mode 600) and are never printed or logged.
  const path = /^[\w./-]+$/.test(config.principalsPath) ? config.principalsPath : `'${config.principalsPath.replace(/'/g, "'\\''")}'`;
  const lines = [
    "",
    `First start: wrote demo principals (authid, role, tenant, ticket) to ${config.principalsPath}`,
    `Connect a WAMP client to ${url} (realm ${config.realm}) with ticket authentication as one of:`,
    ...principals.map((p) => `  ${p.authid.padEnd(11)} role ${p.role}${p.tenant ? `, tenant ${p.tenant}` : ""}`),
    "Try the CLI in another terminal:",
    "  export FEDIVERSITY_AUTHID=acme-admin",
    `  export FEDIVERSITY_TICKET=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).find((p) => p.authid === "acme-admin").ticket' ${path})`,
    "  npm run cli -- submit mastodon --config examples/configs/mastodon.json --watch",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "serve") {
    const config = parseServiceConfig(rest);
    const running = await startService(config);
    // Ctrl-C in a terminal signals the whole process group, and wrappers (npm, tsx) relay the
    // signal once more: keep listening, so a repeated signal cannot kill a stop in progress.
    await new Promise<void>((resolve) => {
      process.on("SIGINT", () => resolve());
      process.on("SIGTERM", () => resolve());
    });
    await running.stop();
    return 0;
  }
  if (command === "scheduler") return runSchedulerCommand(rest);
  return runCli([...argv]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const e = AppError.from(err);
      process.stderr.write(`fediversity-deploy: ${e.code}: ${e.message}\n`);
      process.exit(e.code === "invalid_argument" ? 2 : 1);
    },
  );
}
