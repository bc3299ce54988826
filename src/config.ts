/**
 * The service's configuration: command-line flags over environment variables over defaults, parsed
 * once into a frozen object. Every problem is reported together, with the flag or variable named.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { defaultLimits, type Limits } from "./core/limits.js";
import { AppError, type ProblemDetail } from "./errors.js";

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

export interface ServiceConfig {
  /** HTTP listener for WAMP (`/ws`), `/healthz` and `/metrics`. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly wsPath: string;
  readonly realm: string;
  readonly dataDir: string;
  readonly databasePath: string;
  readonly principalsPath: string;
  readonly deploymentTypesPath: string;
  /** rio-build scheduler; when unset the embedded local scheduler runs. */
  readonly rioUrl: string | null;
  readonly rioTenantToken: string | null;
  /** Where rio-build's store accepts copies (`ssh-ng://gateway`); null with the local scheduler. */
  readonly rioStoreUrl: string | null;
  readonly localScheduler: { readonly host: string; readonly port: number; readonly maxJobs: number };
  /** Component mode: connect to this external router instead of embedding one. */
  readonly routerUrl: string | null;
  readonly routerAuth: { readonly authid: string; readonly ticket: string } | null;
  /** In component mode, also register the authenticator/authorizer procedures under these URIs. */
  readonly registerAuthenticator: string | null;
  readonly registerAuthorizer: string | null;
  readonly allowAnonymous: boolean;
  readonly concurrency: number;
  readonly timeouts: { readonly evalSecs: number; readonly buildSecs: number; readonly deploySecs: number };
  readonly retention: { readonly terminalSyncDays: number; readonly eventDays: number };
  /** core's limits, read by the store and the API alike; only the log lines kept per sync are configurable. */
  readonly limits: Limits;
  readonly webhooks: WebhookConfig;
  readonly logLevel: string;
}

/** Webhook deliveries (docs/webhooks.md). The timings exist so tests can run the contract's schedule in seconds. */
export interface WebhookConfig {
  /** Also allow loopback, link-local and private addresses as webhook targets. */
  readonly allowPrivate: boolean;
  /** The key that seals webhook secrets at rest (created with mode 600 on first start). */
  readonly keyFile: string;
  /** Deadline of one delivery attempt. */
  readonly timeoutMs: number;
  readonly retry: { readonly firstDelayMs: number; readonly maxDelayMs: number; readonly giveUpAfterMs: number; readonly jitter: number };
  /** Attempts in flight at once. */
  readonly concurrency: number;
}

const flagSpec = {
  listen: { type: "string" },
  "data-dir": { type: "string" },
  principals: { type: "string" },
  "deployment-types": { type: "string" },
  realm: { type: "string" },
  "rio-url": { type: "string" },
  "rio-store-url": { type: "string" },
  "scheduler-listen": { type: "string" },
  "max-jobs": { type: "string" },
  "router-url": { type: "string" },
  "router-authid": { type: "string" },
  "router-ticket": { type: "string" },
  "register-authenticator": { type: "string" },
  "register-authorizer": { type: "string" },
  "allow-anonymous": { type: "boolean" },
  concurrency: { type: "string" },
  "webhook-allow-private": { type: "boolean" },
  "webhook-key-file": { type: "string" },
  "log-level": { type: "string" },
} as const;

/** Flag name → environment variable consulted when the flag is absent. */
const envFor: Record<keyof typeof flagSpec, string> = {
  listen: "FEDIVERSITY_LISTEN",
  "data-dir": "FEDIVERSITY_DATA_DIR",
  principals: "FEDIVERSITY_PRINCIPALS",
  "deployment-types": "FEDIVERSITY_DEPLOYMENT_TYPES",
  realm: "FEDIVERSITY_REALM",
  "rio-url": "RIO_SCHEDULER_URL",
  "rio-store-url": "RIO_STORE_URL",
  "scheduler-listen": "FEDIVERSITY_SCHEDULER_LISTEN",
  "max-jobs": "FEDIVERSITY_MAX_JOBS",
  "router-url": "FEDIVERSITY_ROUTER_URL",
  "router-authid": "FEDIVERSITY_ROUTER_AUTHID",
  "router-ticket": "FEDIVERSITY_ROUTER_TICKET",
  "register-authenticator": "FEDIVERSITY_REGISTER_AUTHENTICATOR",
  "register-authorizer": "FEDIVERSITY_REGISTER_AUTHORIZER",
  "allow-anonymous": "FEDIVERSITY_ALLOW_ANONYMOUS",
  concurrency: "FEDIVERSITY_CONCURRENCY",
  "webhook-allow-private": "FEDIVERSITY_WEBHOOK_ALLOW_PRIVATE",
  "webhook-key-file": "FEDIVERSITY_WEBHOOK_KEY_FILE",
  "log-level": "LOG_LEVEL",
};

export function parseServiceConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const problems: ProblemDetail[] = [];
  let flags: Partial<Record<keyof typeof flagSpec, string | boolean>>;
  try {
    flags = parseArgs({ args: [...argv], options: flagSpec, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new AppError("invalid_argument", `bad command line: ${(err as Error).message}`);
  }
  const pick = (name: keyof typeof flagSpec): string | undefined => {
    const v = flags[name];
    if (typeof v === "string") return v;
    if (v === true) return "true";
    const e = env[envFor[name]];
    return e === undefined || e === "" ? undefined : e;
  };
  const where = (name: keyof typeof flagSpec) => `--${name} / ${envFor[name]}`;

  const hostPort = (name: keyof typeof flagSpec, fallback: string) => {
    const text = pick(name) ?? fallback;
    const m = /^(.+):(\d{1,5})$/.exec(text);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !m[1] || port > 65535) {
      problems.push({ path: where(name), message: `expected HOST:PORT, got ${JSON.stringify(text)}` });
      return { host: "127.0.0.1", port: 0 };
    }
    return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
  };
  const positiveInt = (name: keyof typeof flagSpec, fallback: number) => {
    const text = pick(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      problems.push({ path: where(name), message: `expected a positive integer, got ${JSON.stringify(text)}` });
      return fallback;
    }
    return n;
  };
  const url = (name: keyof typeof flagSpec, schemes: readonly string[]) => {
    const text = pick(name);
    if (text === undefined) return null;
    const problem = !URL.canParse(text)
      ? "not a URL"
      : schemes.includes(new URL(text).protocol)
        ? null
        : `scheme must be one of ${schemes.join(", ")}`;
    if (problem === null) return text;
    problems.push({ path: where(name), message: `bad URL ${JSON.stringify(text)}: ${problem}` });
    return null;
  };

  /** A positive integer from an environment variable (no flag). */
  const envInt = (name: string, fallback: number) => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) {
      problems.push({ path: name, message: `expected a positive integer, got ${JSON.stringify(text)}` });
      return fallback;
    }
    return n;
  };

  const dataDir = resolve(pick("data-dir") ?? "data");
  const routerUrl = url("router-url", ["ws:", "wss:"]);
  const routerAuthid = pick("router-authid");
  const routerTicket = pick("router-ticket");
  if (routerUrl && (routerAuthid === undefined) !== (routerTicket === undefined)) {
    problems.push({ path: where("router-ticket"), message: "give both --router-authid and --router-ticket, or neither" });
  }
  const realm = pick("realm") ?? "fediversity";
  if (!/^[a-z0-9_.-]{1,255}$/i.test(realm)) problems.push({ path: where("realm"), message: "not a valid realm name" });

  const config: ServiceConfig = {
    listen: hostPort("listen", "127.0.0.1:8080"),
    wsPath: "/ws",
    realm,
    dataDir,
    databasePath: resolve(dataDir, "fediversity.sqlite"),
    principalsPath: resolve(pick("principals") ?? resolve(dataDir, "principals.json")),
    deploymentTypesPath: resolve(pick("deployment-types") ?? resolve(repoRoot, "examples", "deployment-types.json")),
    rioUrl: url("rio-url", ["http:", "https:"]),
    rioTenantToken: env.RIO_TENANT_TOKEN ?? null,
    rioStoreUrl: pick("rio-store-url") ?? null,
    localScheduler: { ...hostPort("scheduler-listen", "127.0.0.1:0"), maxJobs: positiveInt("max-jobs", 2) },
    routerUrl,
    routerAuth: routerAuthid !== undefined && routerTicket !== undefined ? { authid: routerAuthid, ticket: routerTicket } : null,
    registerAuthenticator: pick("register-authenticator") ?? null,
    registerAuthorizer: pick("register-authorizer") ?? null,
    allowAnonymous: pick("allow-anonymous") === "true" || pick("allow-anonymous") === "1",
    concurrency: positiveInt("concurrency", 8),
    timeouts: {
      evalSecs: Number(env.FEDIVERSITY_EVAL_TIMEOUT_SECS ?? 300),
      buildSecs: Number(env.FEDIVERSITY_BUILD_TIMEOUT_SECS ?? 3600),
      deploySecs: Number(env.FEDIVERSITY_DEPLOY_TIMEOUT_SECS ?? 600),
    },
    retention: {
      terminalSyncDays: Number(env.FEDIVERSITY_RETENTION_SYNC_DAYS ?? 90),
      eventDays: Number(env.FEDIVERSITY_RETENTION_EVENT_DAYS ?? 90),
    },
    limits: { ...defaultLimits, logLinesKeptPerSync: Number(env.FEDIVERSITY_LOG_LINES_PER_SYNC ?? defaultLimits.logLinesKeptPerSync) },
    webhooks: {
      allowPrivate: pick("webhook-allow-private") === "true" || pick("webhook-allow-private") === "1",
      keyFile: resolve(pick("webhook-key-file") ?? resolve(dataDir, "webhook-secrets.key")),
      timeoutMs: envInt("FEDIVERSITY_WEBHOOK_TIMEOUT_MS", 10_000),
      retry: {
        firstDelayMs: envInt("FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS", 10_000),
        maxDelayMs: envInt("FEDIVERSITY_WEBHOOK_RETRY_MAX_MS", 3_600_000),
        giveUpAfterMs: envInt("FEDIVERSITY_WEBHOOK_RETRY_FOR_MS", 86_400_000),
        jitter: 0.1,
      },
      concurrency: envInt("FEDIVERSITY_WEBHOOK_CONCURRENCY", 64),
    },
    logLevel: pick("log-level") ?? "info",
  };
  for (const [name, value] of Object.entries({ ...config.timeouts, ...config.retention, logLinesPerSync: config.limits.logLinesKeptPerSync })) {
    if (!Number.isFinite(value) || value <= 0) problems.push({ path: name, message: "must be a positive number" });
  }
  if (config.webhooks.retry.maxDelayMs < config.webhooks.retry.firstDelayMs) {
    problems.push({ path: "FEDIVERSITY_WEBHOOK_RETRY_MAX_MS", message: "must be at least FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS" });
  }
  if (problems.length > 0) {
    throw new AppError("invalid_argument", `invalid configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`, problems);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
