/** Command-line parsing: global connection options, one command, its positionals and options. */
import { parseArgs } from "node:util";
import { AppError } from "../errors.js";

export const commands = [
  "submit",
  "plan",
  "watch",
  "logs",
  "cancel",
  "delete",
  "rollback",
  "list",
  "status",
  "schema",
  "history",
  "sync",
  "webhooks",
] as const;
export type Command = (typeof commands)[number];

export const defaultUrl = "ws://127.0.0.1:8080/ws";
export const defaultRealm = "fediversity";

export const usage = `usage: fediversity-deploy <command> [options]

commands:
  submit <deployment> --config FILE|-    submit a configuration (--type, --mode replace|enqueue,
                                         --priority interactive|scheduled|ci, --request-id, --watch)
  plan <deployment> --config FILE|-      evaluate and show what would be built (--type)
  watch <deployment> [--sync ID]         live progress until the sync is terminal
  logs <deployment> <sync>               build and deploy output (--follow, --since-line, --limit,
                                         --derivation)
  cancel <deployment> [--sync ID]        cancel the current and queued syncs, or one (--reason)
  delete <deployment>                    enqueue a teardown (--mode, --request-id, --watch)
  rollback <deployment> [--generation N] re-apply a stored generation (--watch)
  list [--state S] [--limit N]           list deployments (--cursor)
  status [<deployment>]                  one deployment, or the queue (role operator)
  schema [<deployment-type>]             configuration schemas
  history <deployment>                   the deployment's syncs, newest first (--state S, --kind
                                         apply|teardown, --limit N, --cursor C)
  sync <id>                              one sync by id, finished ones included
  webhooks list                          the tenant's webhooks (never their secrets)
  webhooks create <url>                  a webhook (--events T,T…, default sync.finished;
                                         --deployment D; --description TEXT); prints its secret once
  webhooks delete <id>                   remove a webhook and its pending deliveries
  webhooks deliveries <id>               its deliveries, newest first (--limit N, --cursor C)

options:
  --url URL        router WebSocket URL (env FEDIVERSITY_URL, default ${defaultUrl})
  --realm REALM    realm (env FEDIVERSITY_REALM, default ${defaultRealm})
  --authid ID      (env FEDIVERSITY_AUTHID)
  --ticket SECRET  ticket authentication (env FEDIVERSITY_TICKET); anonymous without it
  --tenant NAME    act for this tenant (roles panel and operator)
  --json           machine-readable output (watch: one JSON event per line)
  --config-json J  the configuration inline instead of --config

exit codes: 0 success; 1 the sync ended other than succeeded; 2 usage or invalid argument;
3 refused (not_found, not_authorized, conflict, resource_exhausted, internal); 4 unavailable.
`;

const optionSpec = {
  url: { type: "string" },
  realm: { type: "string" },
  authid: { type: "string" },
  ticket: { type: "string" },
  tenant: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean", short: "v" },
  config: { type: "string", short: "c" },
  "config-json": { type: "string" },
  type: { type: "string" },
  mode: { type: "string" },
  priority: { type: "string" },
  "request-id": { type: "string" },
  watch: { type: "boolean", short: "w" },
  sync: { type: "string" },
  reason: { type: "string" },
  generation: { type: "string" },
  "since-line": { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  derivation: { type: "string" },
  follow: { type: "boolean", short: "f" },
  state: { type: "string" },
  cursor: { type: "string" },
  kind: { type: "string" },
  events: { type: "string" },
  deployment: { type: "string" },
  description: { type: "string" },
} as const;

export type CliOptions = ReturnType<typeof parseArgs<{ options: typeof optionSpec; allowPositionals: true }>>["values"];

export interface ParsedArgs {
  readonly command: Command | null;
  readonly positionals: readonly string[];
  readonly options: CliOptions;
}

export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: optionSpec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new AppError("invalid_argument", err instanceof Error ? err.message : String(err));
  }
  const [first, ...rest] = parsed.positionals;
  if (first === undefined) return { command: null, positionals: [], options: parsed.values };
  if (!(commands as readonly string[]).includes(first)) {
    throw new AppError("invalid_argument", `unknown command '${first}'`);
  }
  return { command: first as Command, positionals: rest, options: parsed.values };
}

/** A non-negative integer option, or undefined when absent. */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new AppError("invalid_argument", `--${name} must be a non-negative integer`);
  return Number(value);
}

/** The n-th positional, or a usage error naming it. */
export function positional(args: ParsedArgs, index: number, name: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new AppError("invalid_argument", `missing <${name}>`);
  return value;
}
